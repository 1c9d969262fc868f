// Connection types in a table cell, short enough for the compact peer and connection tables (P2P, Network panels).
import { setText, setUntrustedText } from './dom';

/**
 * Connection types as Bitcoin Core names them (ConnectionTypeAsString), shortened for the table as its GUI's peer
 * list does; the cell's tooltip has the full name. Any other text is shown as it came.
 */
const SHORT_CONNECTION_TYPES: ReadonlyMap<string, string> = new Map([
  ['outbound-full-relay', 'full relay'],
  ['block-relay-only', 'block relay'],
  ['addr-fetch', 'addr fetch'],
  ['private-broadcast', 'private bcast'],
]);

/** A connection type cell: Bitcoin Core's own names shortened (full name in the tooltip), any other text as it came. */
export function setConnectionType(cell: HTMLElement, connType: string): void {
  const short = SHORT_CONNECTION_TYPES.get(connType);
  if (short === undefined) {
    setUntrustedText(cell, connType);
    return;
  }
  setText(cell, short);
  cell.title = connType;
}
