// What every measurement gets from bench.ts: options, paths, and the counts for a full or --quick run.

export interface BenchContext {
  runs: number;
  quick: boolean;
  profile: boolean;
  repoRoot: string;
  probesDir: string;
  /** Private temporary directory, removed at the end. */
  workDir: string;
  /** The v29 tracee copied into workDir: probes on it touch no other test's tracee. */
  traceeCopy: string;
  resultsDir: string;
  /** ISO timestamp of this run, safe in file names. */
  stamp: string;
  attachEvents: number;
  extensionLines: number;
  heapEvents: { first: number; all: number };
  discoveryBytes: number;
  log(message: string): void;
}
