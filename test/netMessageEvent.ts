// A net:inbound_message / net:outbound_message event as the decoder makes it, for the tests that feed models and
// recordings by hand (unit and integration tests alike).

import type { NetMessageEvent } from '../src/core/events/eventTypes';

export function netMessage(
  direction: 'in' | 'out',
  elapsedNs: number,
  peerId: number | string,
  msgType: string,
  size: number,
  peerAddr = `10.0.0.${peerId}:8333`,
  connType = 'outbound-full-relay',
): NetMessageEvent {
  return {
    event: direction === 'in' ? 'net:inbound_message' : 'net:outbound_message',
    elapsed_ns: elapsedNs,
    peer_id: peerId,
    peer_addr: peerAddr,
    conn_type: connType,
    msg_type: msgType,
    msg_size: size,
  };
}
