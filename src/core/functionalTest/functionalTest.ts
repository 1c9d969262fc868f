// How to run one of Bitcoin Core's functional tests (test/functional/*.py, or test_runner.py) against a
// chosen build: the command, its environment (BITCOIND, BITCOINCLI) and, for a test in a source tree that has
// no test/config.ini (the build writes one next to its own copy of the tests), a config.ini made for the build.

import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface FunctionalTestRequest {
  /** The test file: `…/test/functional/p2p_ping.py`, or `…/test_runner.py`. */
  testPath: string;
  /** The bitcoind to test (BITCOIND); its bitcoin-cli is the one next to it unless given. */
  bitcoind: string;
  bitcoinCli?: string;
  /** Arguments for the test (or for test_runner.py: test names and its options). */
  testArgs: readonly string[];
  /** Whether the build has the wallet (the framework skips wallet tests when the config says it has none). */
  hasWallet: boolean;
  /** Where a made config.ini goes (a private directory of the caller's). */
  configDir: string;
}

export interface FunctionalTestPlan {
  /** `p2p_ping` (the test file's name without .py): names the recording. */
  name: string;
  /** python3, the test and its arguments. */
  argv: string[];
  /** Added to the caller's environment. */
  env: Record<string, string>;
  /** A config.ini to write before starting (the source tree has none), or null. */
  configIni: { path: string; text: string } | null;
}

export class FunctionalTestError extends Error {}

export function isTestRunner(testPath: string): boolean {
  return basename(testPath) === 'test_runner.py';
}

/** The test's name: the file name without `.py` (`test_runner` for the runner). */
export function functionalTestName(testPath: string): string {
  return basename(testPath).replace(/\.py$/, '');
}

/** Plans the run (throws FunctionalTestError with what to do when the test cannot run as asked). */
export function planFunctionalTest(request: FunctionalTestRequest): FunctionalTestPlan {
  const testPath = resolve(request.testPath);
  if (!testPath.endsWith('.py')) throw new FunctionalTestError(`${testPath} is not a Python test file (…/test/functional/<name>.py)`);
  if (!existsSync(testPath)) throw new FunctionalTestError(`${testPath} does not exist`);
  const testDir = dirname(testPath);
  if (!existsSync(join(testDir, 'test_framework', 'test_framework.py'))) {
    throw new FunctionalTestError(`${testPath} is not in a Bitcoin Core test/functional directory (no test_framework/ next to it)`);
  }
  const bitcoinCli = request.bitcoinCli ?? join(dirname(request.bitcoind), 'bitcoin-cli');
  const env: Record<string, string> = { BITCOIND: request.bitcoind };
  if (existsSync(bitcoinCli)) env.BITCOINCLI = bitcoinCli;
  // The framework reads <test dir>/../config.ini unless given --configfile; a build directory has one.
  const defaultConfig = join(testDir, '..', 'config.ini');
  const args = [...request.testArgs];
  let configIni: FunctionalTestPlan['configIni'] = null;
  if (!existsSync(defaultConfig) && !args.some((a) => a.startsWith('--configfile'))) {
    if (isTestRunner(testPath)) {
      throw new FunctionalTestError(
        `test_runner.py reads ${resolve(defaultConfig)}, which this source tree lacks (the build writes it): run your build ` +
        `directory's test/functional/test_runner.py, or trace one test file from here`,
      );
    }
    const path = join(request.configDir, 'config.ini');
    configIni = { path, text: configIniText({ sourceDir: resolve(testDir, '..', '..'), bitcoind: request.bitcoind, hasCli: existsSync(bitcoinCli), hasWallet: request.hasWallet }) };
    args.unshift(`--configfile=${path}`);
  }
  return { name: functionalTestName(testPath), argv: ['python3', testPath, ...args], env, configIni };
}

/**
 * The config.ini the build would write (test/config.ini.in), for a source tree and a bitcoind: BUILDDIR is the
 * directory above the binary's bin/ (the framework looks for <BUILDDIR>/bin/<program> unless BITCOIND etc. say
 * otherwise). Components the build may lack are off: tests that need them skip themselves.
 */
export function configIniText(build: { sourceDir: string; bitcoind: string; hasCli: boolean; hasWallet: boolean }): string {
  const yes = (on: boolean): string => (on ? 'true' : 'false');
  return [
    '# Made by bitcoin-usdt trace-test for this run (the source tree has no test/config.ini).',
    '[environment]',
    'CLIENT_NAME=Bitcoin Core',
    'CLIENT_BUGREPORT=https://github.com/bitcoin/bitcoin/issues',
    `SRCDIR=${build.sourceDir}`,
    `BUILDDIR=${dirname(dirname(build.bitcoind))}`,
    'EXEEXT=',
    `RPCAUTH=${join(build.sourceDir, 'share', 'rpcauth', 'rpcauth.py')}`,
    '',
    '[components]',
    `ENABLE_WALLET=${yes(build.hasWallet)}`,
    `ENABLE_CLI=${yes(build.hasCli)}`,
    'ENABLE_BITCOIND=true',
    'ENABLE_USDT_TRACEPOINTS=true',
    'BUILD_BENCH=false',
    'BUILD_BITCOIN_TX=false',
    'ENABLE_BITCOIN_UTIL=false',
    'ENABLE_BITCOIN_CHAINSTATE=false',
    'ENABLE_WALLET_TOOL=false',
    'ENABLE_FUZZ_BINARY=false',
    'ENABLE_ZMQ=false',
    'ENABLE_EMBEDDED_ASMAP=false',
    'ENABLE_EXTERNAL_SIGNER=false',
    'ENABLE_IPC=false',
    'BUILD_GUI=false',
    '',
  ].join('\n');
}
