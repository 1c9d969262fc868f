// Integration tests under @vscode/test-cli on a machine with internet (`npx vscode-test` downloads VS Code).
// Without internet use `npm run test:integration` (test/runIntegration.ts drives the offline VS Code server).
// Both run the same compiled tests: `npm run build` and `make -C test/tracee` first.
import { defineConfig } from '@vscode/test-cli';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = dirname(fileURLToPath(import.meta.url));
const runnerModule = join(repoRoot, 'dist', 'test', 'runIntegration.js');
if (!existsSync(runnerModule)) throw new Error(`${runnerModule} is missing: run \`npm run build\` first`);

// The same workspace the offline runner prepares: the tracee as build/bin/bitcoind, its sources, hostile settings.
const { prepareTestWorkspace, defaultWorkspaceSettings } = createRequire(import.meta.url)(runnerModule);
const workspaceDir = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-integration-'));
await prepareTestWorkspace(workspaceDir, defaultWorkspaceSettings);

export default defineConfig({
  label: 'integration',
  files: 'dist/test/integration/*.test.js',
  version: 'stable',
  workspaceFolder: workspaceDir,
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  env: { BITCOIN_USDT_REPO: repoRoot, BITCOIN_USDT_TEST_WORKSPACE: workspaceDir },
  mocha: { ui: 'bdd', timeout: 60_000, color: true },
});
