// Normalized events of the BCC tools (raw-p2p-msgs, mempool-monitor), derived from their field tables in
// eventSchema.ts. Same conventions as eventTypes.ts, whose `NormalizedEvent` union includes `ToolEvent`.

import type { SchemaEvent } from './eventSchema';

/**
 * A P2P message with its bytes (raw-p2p-msgs). Whole up to 4,000,000 bytes (the protocol maximum): when
 * `captured < msg_size` the message arrived cut, and a `truncated` event with field `msg` follows it.
 */
export type RawNetMessageEvent = SchemaEvent<'raw-p2p-msgs', 'net:inbound_message' | 'net:outbound_message'>;

export type MempoolAddedEvent = SchemaEvent<'mempool-monitor', 'mempool:added'>;
export type MempoolRemovedEvent = SchemaEvent<'mempool-monitor', 'mempool:removed'>;
export type MempoolReplacedEvent = SchemaEvent<'mempool-monitor', 'mempool:replaced'>;
export type MempoolRejectedEvent = SchemaEvent<'mempool-monitor', 'mempool:rejected'>;

export type MempoolEvent = MempoolAddedEvent | MempoolRemovedEvent | MempoolReplacedEvent | MempoolRejectedEvent;

export type ToolEvent = RawNetMessageEvent | MempoolEvent;
