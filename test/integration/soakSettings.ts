// Shared by the offline runner (test/runIntegration.ts, mode `soak`), vscodeSoak.test.ts and
// test/bench/vscodeSoakBench.ts: how long the soak inside VS Code runs, and how long its harness may take.

/** Environment variable: how long the tracee fires in the VS Code soak, in milliseconds. */
export const SOAK_DURATION_ENV = 'BITCOIN_USDT_SOAK_DURATION_MS';
export const DEFAULT_SOAK_DURATION_MS = 10 * 60_000;
/**
 * Beyond the firing itself: VS Code starting, the probe attaching, the session ending, and reading the
 * automatic recording back (~9 GB after 10 minutes at the top rate, 1–2 minutes).
 */
const SOAK_HARNESS_MARGIN_MS = 15 * 60_000;

export function soakDurationMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[SOAK_DURATION_ENV];
  if (text === undefined || text === '') return DEFAULT_SOAK_DURATION_MS;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1_000) {
    throw new Error(`${SOAK_DURATION_ENV} must be a whole number of milliseconds, at least 1000 (got ${JSON.stringify(text)})`);
  }
  return value;
}

/** The whole harness run of a soak of `durationMs`, VS Code's start and the checks at the end included. */
export function soakHarnessTimeoutMs(durationMs: number): number {
  return durationMs + SOAK_HARNESS_MARGIN_MS;
}
