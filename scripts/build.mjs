// One build for everything: the extension host bundle (node, `vscode` external), the command line,
// the webview bundles (browser) and the compiled tests. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { readdirSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', target: 'es2022' };

function listTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
}

const webviewEntries = existsSync('media')
  ? readdirSync('media', { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join('media', d.name, 'main.ts')))
      .map((d) => ({ in: join('media', d.name, 'main.ts'), out: d.name }))
  : [];

const builds = [
  { ...common, platform: 'node', format: 'cjs', external: ['vscode'], entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...common, platform: 'node', format: 'cjs', entryPoints: ['src/cli/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  { ...common, platform: 'browser', format: 'iife', entryPoints: webviewEntries, outdir: 'dist/webview', loader: { '.css': 'css' } },
  // Integration tests run inside the VS Code extension host; the runner drives VS Code from outside.
  {
    ...common, sourcemap: true, minify: false, platform: 'node', format: 'cjs', external: ['vscode', 'mocha', 'playwright-core'],
    entryPoints: [
      ...(existsSync('test/integration/index.ts') ? ['test/integration/index.ts'] : []),
      ...listTests('test/integration'),
    ],
    outdir: 'dist/test/integration',
  },
  ...(existsSync('test/runIntegration.ts')
    ? [{ ...common, sourcemap: true, minify: false, platform: 'node', format: 'cjs', external: ['playwright-core'], entryPoints: ['test/runIntegration.ts'], outfile: 'dist/test/runIntegration.js' }]
    : []),
].filter((b) => !b.entryPoints || b.entryPoints.length > 0);

mkdirSync('dist', { recursive: true });
if (existsSync('node_modules/uplot/dist/uPlot.min.css')) {
  mkdirSync('dist/webview', { recursive: true });
  copyFileSync('node_modules/uplot/dist/uPlot.min.css', 'dist/webview/uPlot.min.css');
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
