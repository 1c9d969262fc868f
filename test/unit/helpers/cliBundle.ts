import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { build } from 'esbuild';

const REPOSITORY = path.resolve(__dirname, '../../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Bundles `src/cli/cli.ts` into `directory/cli.js` the way `scripts/build.mjs` makes `dist/cli.js`; its path. */
export async function bundleCli(directory: string): Promise<string> {
  const cliPath = path.join(directory, 'cli.js');
  await build({
    entryPoints: [path.join(REPOSITORY, 'src/cli/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    outfile: cliPath,
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'silent',
  });
  return cliPath;
}

/** Runs the bundled CLI with node in the repository; a non-zero exit is a result, not a rejection. */
export function runBundledCli(cliPath: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cliPath, ...args], { cwd: REPOSITORY, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}
