/**
 * What to probe: the typed argument of `bitcoinUsdt.startProbe` for tests and automation (skips the
 * pickers), and what the pickers produce.
 */
export interface LaunchRequest {
  /** A tool id of the tool catalog, e.g. "p2p-traffic". */
  readonly tool: string;
  /** Absolute path of the bitcoind binary. */
  readonly binaryPath: string;
  /** One process, or every process running the binary (the default). */
  readonly pid?: number | 'all';
  /** Re-attach when the process exits and the binary is started again (needs a pid). */
  readonly follow?: boolean;
}

/** Tells a LaunchRequest from a tree node (TreeNodeTarget has no `tool`). */
export function isLaunchRequest(value: unknown): value is LaunchRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const pidOk =
    candidate.pid === undefined || candidate.pid === 'all' || (typeof candidate.pid === 'number' && Number.isSafeInteger(candidate.pid) && candidate.pid > 0);
  return (
    typeof candidate.tool === 'string' &&
    typeof candidate.binaryPath === 'string' &&
    pidOk &&
    (candidate.follow === undefined || typeof candidate.follow === 'boolean')
  );
}

export function requestedPid(request: LaunchRequest): number | null {
  return typeof request.pid === 'number' ? request.pid : null;
}
