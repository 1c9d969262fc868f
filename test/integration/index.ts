// Test entry loaded by VS Code's extension host (extensionTestsPath): the offline runner (test/runIntegration.ts)
// and @vscode/test-electron both call run(). Runs every *.test.js next to this file with mocha.
import { appendFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/** The offline runner cannot see the extension host's stdout: it reads the reporter's lines from this file. */
function copyReporterOutputTo(outputFile: string): void {
  const consoleLog = Mocha.reporters.Base.consoleLog;
  Mocha.reporters.Base.consoleLog = (...data: unknown[]) => {
    consoleLog(...data);
    appendFileSync(outputFile, `${format(...data)}\n`);
  };
}

export async function run(): Promise<void> {
  const outputFile = process.env.BITCOIN_USDT_TEST_OUTPUT_FILE;
  if (outputFile) copyReporterOutputTo(outputFile);
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  const grep = process.env.BITCOIN_USDT_TEST_GREP;
  if (grep) mocha.grep(grep);
  const testFiles = (await readdir(__dirname)).filter((name) => name.endsWith('.test.js')).sort();
  if (testFiles.length === 0) throw new Error(`no *.test.js files in ${__dirname}`);
  for (const name of testFiles) mocha.addFile(join(__dirname, name));

  const { passes, failures } = await new Promise<{ passes: number; failures: number }>((resolveRun, rejectRun) => {
    try {
      const runner = mocha.run(() => resolveRun({ passes: runner.stats?.passes ?? 0, failures: runner.stats?.failures ?? 0 }));
    } catch (error) {
      rejectRun(error);
    }
  });
  const resultsFile = process.env.BITCOIN_USDT_TEST_RESULTS_FILE;
  if (resultsFile) await writeFile(resultsFile, JSON.stringify({ passes, failures }));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
