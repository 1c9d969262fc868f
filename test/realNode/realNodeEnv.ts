// The real Bitcoin Core the real-node tier runs: a user's own build through environment variables, or in CI the
// one scripts/unpack-real-node.sh unpacks (`eval "$(bash scripts/unpack-real-node.sh)"` sets them all).
// A missing variable fails the tier with this message; it never skips.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface RealNodeBuild {
  /** `master` (BITCOIND) or `old` (BITCOIND_OLD). */
  label: string;
  bitcoind: string;
  bitcoinCli: string;
}

const HOW_TO_SET =
  'The real-node tests need a Bitcoin Core built with USDT: set BITCOIND and BITCOIN_CLI (your build/bin/bitcoind and ' +
  'build/bin/bitcoin-cli), BITCOIN_SOURCE (its source tree), and BITCOIND_OLD / BITCOIN_CLI_OLD (a pre-v29 build), ' +
  'or run `eval "$(bash scripts/unpack-real-node.sh)"` to use the Bitcoin Core shipped for CI.';

function requiredFile(name: string, what: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set. ${HOW_TO_SET}`);
  if (!existsSync(value)) throw new Error(`${name}=${value} does not exist (${what}). ${HOW_TO_SET}`);
  return value;
}

/** The node under test: BITCOIND / BITCOIN_CLI. */
export function masterBuild(): RealNodeBuild {
  return { label: 'master', bitcoind: requiredFile('BITCOIND', 'bitcoind'), bitcoinCli: requiredFile('BITCOIN_CLI', 'bitcoin-cli') };
}

/** The older (pre-v29, TRACEn) node: BITCOIND_OLD / BITCOIN_CLI_OLD. */
export function oldBuild(): RealNodeBuild {
  return { label: 'old', bitcoind: requiredFile('BITCOIND_OLD', 'the older bitcoind'), bitcoinCli: requiredFile('BITCOIN_CLI_OLD', 'its bitcoin-cli') };
}

/** BITCOIN_SOURCE: the source tree of the BITCOIND build (src/ with the TRACEPOINT call sites, test/functional). */
export function bitcoinSource(): string {
  const source = requiredFile('BITCOIN_SOURCE', 'the Bitcoin Core source tree');
  if (!statSync(source).isDirectory() || !existsSync(join(source, 'test', 'functional', 'test_framework', 'p2p.py'))) {
    throw new Error(`BITCOIN_SOURCE=${source} is not a Bitcoin Core source tree (no test/functional/test_framework/p2p.py). ${HOW_TO_SET}`);
  }
  return source;
}
