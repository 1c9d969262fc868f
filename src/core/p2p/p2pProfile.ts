// What the P2P traffic and raw messages panels compare of two runs (src/core/comparison/runProfile.ts): messages
// and bytes per direction, per message type (in and out), per peer and per connection type, message sizes;
// from p2p-traffic's and raw-p2p-msgs' messages and from p2p-monitor's kernel totals alike, so a run of one
// tool compares with a run of the other.

import type { NormalizedEvent } from '../events/eventTypes';
import type { ProfileMeasure, ProfileSpec } from '../comparison/runProfile';
import { fieldsOf, int64Text, isRecord, numberField, stringField } from '../toolViews/eventFields';

/** A peer across runs: its id and connection type (addresses carry ephemeral ports; ids restart with the node). */
function peerKey(peerId: unknown, connType: unknown): string {
  return `#${int64Text(peerId) ?? '?'} ${stringField(connType) || '?'}`;
}

function messageMeasure(fields: Readonly<Record<string, unknown>>, direction: 'in' | 'out'): ProfileMeasure[] {
  const size = numberField(fields.msg_size);
  const msgType = stringField(fields.msg_type) ?? '?';
  const connType = stringField(fields.conn_type) ?? '?';
  return [
    {
      keys: { direction, [`message type (${direction})`]: msgType, peer: peerKey(fields.peer_id, fields.conn_type), 'connection type': connType },
      ...(size === null ? {} : { amount: size, samples: { 'message size': size } }),
    },
  ];
}

type Totals = { readonly key: string; readonly count: number; readonly amount: number };

function totalsOf(list: unknown, key: (row: Readonly<Record<string, unknown>>) => string, direction: 'in' | 'out' | 'both'): Totals[] {
  const out = new Map<string, { count: number; amount: number }>();
  for (const row of Array.isArray(list) ? list : []) {
    if (!isRecord(row)) continue;
    const count = (direction !== 'out' ? (numberField(row.msgs_in) ?? 0) : 0) + (direction !== 'in' ? (numberField(row.msgs_out) ?? 0) : 0);
    const amount = (direction !== 'out' ? (numberField(row.bytes_in) ?? 0) : 0) + (direction !== 'in' ? (numberField(row.bytes_out) ?? 0) : 0);
    const k = key(row);
    const tally = out.get(k) ?? { count: 0, amount: 0 };
    tally.count += count;
    tally.amount += amount;
    out.set(k, tally);
  }
  return [...out].map(([k, t]) => ({ key: k, ...t })).filter((t) => t.count > 0);
}

export const P2P_PROFILE: ProfileSpec = {
  events: 'messages',
  amountUnit: 'bytes',
  distributions: { 'message size': 'bytes' },
  measure(event: NormalizedEvent): readonly ProfileMeasure[] {
    const fields = fieldsOf(event);
    switch (event.event) {
      case 'net:inbound_message':
        return messageMeasure(fields, 'in');
      case 'net:outbound_message':
        return messageMeasure(fields, 'out');
      case 'p2p:msg_type_totals': {
        const byType = (row: Readonly<Record<string, unknown>>): string => stringField(row.msg_type) ?? '?';
        const inTotals = totalsOf(fields.types, byType, 'in');
        const outTotals = totalsOf(fields.types, byType, 'out');
        const sum = (rows: Totals[]): Totals => rows.reduce((s, r) => ({ key: s.key, count: s.count + r.count, amount: s.amount + r.amount }), { key: '', count: 0, amount: 0 });
        return [
          { totals: 'direction', rows: [{ ...sum(inTotals), key: 'in' }, { ...sum(outTotals), key: 'out' }], rate: { count: 'messages', amount: 'bytes' } },
          { totals: 'message type (in)', rows: inTotals },
          { totals: 'message type (out)', rows: outTotals },
        ];
      }
      case 'p2p:peer_totals': {
        // p2p-traffic's totals under a kernel filter carry no connection types: they count the peers, not the types.
        const typed = Array.isArray(fields.peers) && fields.peers.some((row) => isRecord(row) && stringField(row.conn_type));
        return [
          { totals: 'peer', rows: totalsOf(fields.peers, (row) => peerKey(row.peer_id, row.conn_type), 'both') },
          ...(typed ? [{ totals: 'connection type', rows: totalsOf(fields.peers, (row) => stringField(row.conn_type) ?? '?', 'both') }] : []),
        ];
      }
      default:
        return [];
    }
  },
};
