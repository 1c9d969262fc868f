// The P2P traffic of the panel measurements (headless Chromium in panelBench.ts, VS Code in
// test/integration/panelBench.test.ts): 1,000 peers and 100,000 messages, 100 per peer.
import type { NetMessageEvent } from '../../src/core/events/eventTypes';

export const BENCH_PEERS = 1_000;
export const BENCH_MESSAGES = 100_000;
const MESSAGE_TYPES = ['inv', 'getdata', 'tx', 'ping', 'pong', 'headers', 'addrv2', 'cmpctblock', 'feefilter', 'block'];
const CONN_TYPES = ['inbound', 'outbound-full-relay', 'block-relay-only', 'manual', 'feeler', 'addr-fetch'];

/** Message number `i` of the workload, from peer `peer` (0 … BENCH_PEERS − 1), at `elapsedNs`. */
export function benchMessage(i: number, peer: number, elapsedNs: number): NetMessageEvent {
  return {
    event: i % 3 === 0 ? 'net:outbound_message' : 'net:inbound_message',
    elapsed_ns: elapsedNs,
    peer_id: peer,
    peer_addr: `203.0.${peer >> 8}.${peer & 255}:${8333 + (peer % 7)}`,
    conn_type: CONN_TYPES[peer % CONN_TYPES.length],
    msg_type: MESSAGE_TYPES[(i * 7 + peer) % MESSAGE_TYPES.length],
    msg_size: 32 + ((i * 131) % 4000),
  };
}

/** Elapsed time of message `i`: one every 10 µs after the first second. */
export function benchElapsedNs(i: number): number {
  return 1_000_000_000 + (i + 1) * 10_000;
}

/** The BENCH_MESSAGES messages, every peer in turn. */
export function benchTraffic(): NetMessageEvent[] {
  const messages: NetMessageEvent[] = [];
  for (let i = 0; i < BENCH_MESSAGES; i++) messages.push(benchMessage(i, i % BENCH_PEERS, benchElapsedNs(i)));
  return messages;
}
