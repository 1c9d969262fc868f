// Measurement 5: bundle sizes (the dev build `node scripts/build.mjs` writes to dist/, and a minified
// production build of the same entry points into the work directory), and the time to require the extension
// bundle and run activate() with a stub `vscode` (activationWorker.ts, compiled to plain JS so no TypeScript
// loader sits between Node and the bundle).

import * as esbuild from 'esbuild';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { figure, type Figure, type TableRow } from './benchStats';
import { BenchFailure, bundleWorker, runToEnd } from './benchProcesses';
import type { BenchContext } from './benchContext';

export interface BundleFile {
  build: 'dev' | 'production';
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface ActivationRun {
  build: 'dev' | 'production';
  requireMs: number;
  activateMs: number;
  activateError: string | null;
  subscriptions: number;
}

export interface BundleResults {
  buildError: string | null;
  files: BundleFile[];
  activation: ActivationRun[];
  figures: Record<string, Figure>;
}

async function sizeOf(build: BundleFile['build'], root: string, file: string): Promise<BundleFile> {
  const bytes = await fs.readFile(join(root, file));
  return { build, file, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
}

function bundleFiles(root: string): string[] {
  const files = ['extension.js', 'cli.js'].filter((f) => existsSync(join(root, f)));
  const webview = join(root, 'webview');
  if (existsSync(webview)) {
    for (const f of readdirSync(webview).sort()) if (f.endsWith('.js')) files.push(`webview/${f}`);
  }
  return files;
}

/** The production options of scripts/build.mjs for the shipped bundles, written to `outDir`. */
async function productionBuild(repoRoot: string, outDir: string): Promise<void> {
  const common = { bundle: true, minify: true, sourcemap: false, target: 'es2022', logLevel: 'silent' as const, absWorkingDir: repoRoot };
  const media = join(repoRoot, 'media');
  const webviewEntries = existsSync(media)
    ? readdirSync(media, { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(join(media, d.name, 'main.ts')))
        .map((d) => ({ in: join('media', d.name, 'main.ts'), out: d.name }))
    : [];
  await esbuild.build({ ...common, platform: 'node', format: 'cjs', external: ['vscode'], entryPoints: ['src/extension/extension.ts'], outfile: join(outDir, 'extension.js') });
  await esbuild.build({ ...common, platform: 'node', format: 'cjs', entryPoints: ['src/cli/cli.ts'], outfile: join(outDir, 'cli.js') });
  if (webviewEntries.length > 0) {
    await esbuild.build({ ...common, platform: 'browser', format: 'iife', entryPoints: webviewEntries, outdir: join(outDir, 'webview'), loader: { '.css': 'css' } });
  }
}

export async function runBundleBench(ctx: BenchContext): Promise<BundleResults> {
  ctx.log('bundle: node scripts/build.mjs');
  const build = await runToEnd([process.execPath, 'scripts/build.mjs'], 300_000, ctx.repoRoot);
  const buildError = build.code === 0 ? null : `node scripts/build.mjs failed (code ${build.code}): ${build.stderr.trim().slice(-600)}`;
  if (buildError) ctx.log(`bundle: ${buildError}; measuring the dist/ that exists`);
  const devRoot = join(ctx.repoRoot, 'dist');
  const prodRoot = join(ctx.workDir, 'dist-production');
  ctx.log('bundle: minified production build into the work directory');
  await productionBuild(ctx.repoRoot, prodRoot);
  const files: BundleFile[] = [];
  for (const f of bundleFiles(devRoot)) files.push(await sizeOf('dev', devRoot, f));
  for (const f of bundleFiles(prodRoot)) files.push(await sizeOf('production', prodRoot, f));

  const worker = await bundleWorker(join(__dirname, 'activationWorker.ts'), join(ctx.workDir, 'activationWorker.js'));
  const activation: ActivationRun[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const [name, root] of [['dev', devRoot], ['production', prodRoot]] as const) {
      const bundle = join(root, 'extension.js');
      if (!existsSync(bundle)) throw new BenchFailure(`${bundle} does not exist`);
      const run = await runToEnd([process.execPath, worker, bundle, ctx.repoRoot], 60_000, ctx.repoRoot);
      if (run.code !== 0) throw new BenchFailure(`activation of ${bundle} failed: ${run.stderr.trim().slice(-600)}`);
      const parsed = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as Omit<ActivationRun, 'build'>;
      activation.push({ build: name, ...parsed });
    }
  }
  ctx.log(`bundle: activate() ${activation.some((a) => a.activateError) ? `threw: ${activation.find((a) => a.activateError)?.activateError}` : 'completed'}`);
  const of = (build: ActivationRun['build']): ActivationRun[] => activation.filter((a) => a.build === build);
  const figures: Record<string, Figure> = {};
  for (const f of files) {
    figures[`size.${f.build}.${f.file}`] = figure([f.bytes / 1024], 'KiB');
    figures[`gzip.${f.build}.${f.file}`] = figure([f.gzipBytes / 1024], 'KiB');
  }
  for (const build of ['dev', 'production'] as const) {
    figures[`activation.${build}.requireMs`] = figure(of(build).map((a) => a.requireMs), 'ms');
    figures[`activation.${build}.activateMs`] = figure(of(build).map((a) => a.activateMs), 'ms');
  }
  return { buildError, files, activation, figures };
}

export function bundleTableRows(results: BundleResults): TableRow[] {
  const section = `6. bundles and activation${results.buildError ? ' (build FAILED, sizes of the existing dist/)' : ''}`;
  const rows: TableRow[] = results.files.map((f) => ({
    section,
    name: `${f.build === 'dev' ? 'dist' : 'production'}/${f.file}`,
    figure: results.figures[`size.${f.build}.${f.file}`],
    note: `gzip ${(f.gzipBytes / 1024).toFixed(1)} KiB`,
  }));
  for (const build of ['dev', 'production'] as const) {
    const runs = results.activation.filter((a) => a.build === build);
    const error = runs.find((a) => a.activateError)?.activateError;
    rows.push({ section, name: `require(${build} extension.js), stub vscode`, figure: results.figures[`activation.${build}.requireMs`] });
    rows.push({
      section, name: `activate(${build}), fake context`, figure: results.figures[`activation.${build}.activateMs`],
      note: error ? `threw: ${error.slice(0, 60)}` : `${runs[0]?.subscriptions ?? 0} subscriptions`,
    });
  }
  return rows;
}
