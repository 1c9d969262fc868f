// The counts every session keeps (src/core/session/sessionAccount.ts), as every panel receives them.

import type { NamedCount } from './p2pProtocol';

export interface AccountCounts {
  /** Tracepoint events the model took (its own events with valid fields). */
  readonly delivered: number;
  /** Σ of `lost` counts: fired but never arrived (bpftrace lost events, or reconciled against kernel counts; a reconciled count may be negative, the sum is exact). */
  readonly lostEvents: number;
  /** Events with fields of the wrong types (damaged or hand-made recordings), including bad `lost`/`truncated`; skipped. */
  readonly ignoredEvents: number;
  /** Strings cut at the probe's string limit. */
  readonly truncatedStrings: number;
  readonly truncatedByField: readonly NamedCount[];
  /** The kernel's cumulative count per tracepoint, when the probe reports them. */
  readonly fired: readonly NamedCount[];
  readonly lastElapsedNs: number;
}
