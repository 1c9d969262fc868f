// What the P2P page holds of the session shown: the host's snapshot, with each delta merged in.
import type { MessageTypeRow, P2pCounters, PeerMessageTypeRow, PeerRow, RateSeries, RecentMessage, SessionChoice, SessionStatus } from '../../src/shared/p2pProtocol';

/** Seconds of rates kept for the charts. */
const RATE_WINDOW_SECONDS = 600;

export interface Rates {
  startSecond: number;
  msgsIn: number[];
  msgsOut: number[];
  bytesIn: number[];
  bytesOut: number[];
}

const OTHER_TYPES_KEY = '\u0000other';

export const model = {
  sessions: [] as SessionChoice[],
  sessionId: null as string | null,
  hasSnapshot: false,
  peers: new Map<string, PeerRow>(),
  types: new Map<string, MessageTypeRow>(),
  rates: { startSecond: 0, msgsIn: [], msgsOut: [], bytesIn: [], bytesOut: [] } as Rates,
  counters: null as P2pCounters | null,
  session: null as SessionStatus | null,
  detail: null as { peerId: string; messages: RecentMessage[]; types: readonly PeerMessageTypeRow[]; gone: boolean } | null,
};

export function mergeRates(into: Rates, update: RateSeries): void {
  if (update.msgsIn.length === 0) return;
  const keys = ['msgsIn', 'msgsOut', 'bytesIn', 'bytesOut'] as const;
  if (into.msgsIn.length === 0 || update.startSecond < into.startSecond) {
    // The update covers everything held (the host sends from its first changed second to its newest).
    into.startSecond = update.startSecond;
    for (const key of keys) into[key] = [...update[key]];
  } else {
    const offset = update.startSecond - into.startSecond;
    for (const key of keys) {
      const target = into[key];
      if (target.length > offset) target.length = offset;
      while (target.length < offset) target.push(0);
      for (const value of update[key]) target.push(value);
    }
  }
  const excess = into.msgsIn.length - RATE_WINDOW_SECONDS;
  if (excess > 0) {
    for (const key of keys) into[key].splice(0, excess);
    into.startSecond += excess;
  }
}

/** The key of a message type row (null: the types beyond the kept-types cap together). */
export function typeKey(msgType: string | null): string {
  return msgType ?? OTHER_TYPES_KEY;
}
