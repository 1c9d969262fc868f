import type { ToolAvailability } from './toolCatalog';

/**
 * Why no tool can run, said once per cause: a binary without a tracepoint at all gets one sentence, not the
 * same reason repeated for every tool.
 */
export function noToolMessage(binaryPath: string, unavailable: readonly ToolAvailability[]): string {
  const byReason = new Map<string, string[]>();
  for (const a of unavailable) {
    const reason = a.reason ?? 'unavailable';
    byReason.set(reason, [...(byReason.get(reason) ?? []), a.tool.title]);
  }
  if (byReason.size === 1) return `No probe tool can run against ${binaryPath}: ${[...byReason.keys()][0]}.`;
  const reasons = [...byReason].map(([reason, titles]) => `${titles.join(', ')}: ${reason}`).join('; ');
  return `No probe tool can run against ${binaryPath}. ${reasons}.`;
}
