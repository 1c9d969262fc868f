// Self time per function from a V8 .cpuprofile (node --cpu-prof) of a bundled worker: where a run spent
// its time. esbuild marks each module in a bundle with a `// path/to/file.ts` comment line, which maps a
// bundle line back to its source file.

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface HotSpot {
  /** "functionName (source file)" */
  location: string;
  selfPercent: number;
  selfMs: number;
}

/** For each line of the bundle, the source file it came from. */
function sourceFileByLine(bundleText: string): string[] {
  const files: string[] = [];
  let current = '';
  for (const line of bundleText.split('\n')) {
    const marker = /^\/\/ ((?:src|test|node_modules)\/\S+\.(?:ts|js|mjs|cjs))$/.exec(line);
    if (marker) current = marker[1];
    files.push(current);
  }
  return files;
}

export function summarizeCpuProfile(profile: CpuProfile, bundleText: string, top: number): HotSpot[] {
  const fileOfLine = sourceFileByLine(bundleText);
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  const byLocation = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.startsWith('file://') ? (fileOfLine[lineNumber] ?? url) : url;
    const location = `${functionName || '(anonymous)'}${where ? ` (${where})` : ''}`;
    byLocation.set(location, (byLocation.get(location) ?? 0) + us);
  }
  return [...byLocation]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([location, us]) => ({ location, selfPercent: total > 0 ? (100 * us) / total : 0, selfMs: us / 1000 }));
}
