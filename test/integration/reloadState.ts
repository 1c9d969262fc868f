// Shared by the offline runner (test/runIntegration.ts, mode `reload`) and reload.test.ts.

/** What the first phase writes into BITCOIN_USDT_RELOAD_STATE_DIR right before it reloads the window. */
export const reloadPhaseOneFile = 'phase1.json';

/** What the first phase saw in the panel, for the second phase to compare with. */
export interface ReloadPhaseOneRecord {
  readonly recordingPath: string;
  readonly totalPeers: number;
  readonly peerRowCount: number;
  readonly firstPeerIds: readonly string[];
}
