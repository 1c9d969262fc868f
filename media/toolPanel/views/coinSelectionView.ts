import type { CoinSelectionAttempt, CoinSelectionPart, CoinSelectionView } from '../../../src/shared/toolPanelProtocol';
import { formatCount, formatInt64, formatSessionTime } from '../../shared/dom';
import { defineView, newestFirst, type Cell } from '../viewModule';

/** The part whose transaction was used: APS when use_aps, else the normal one. */
function used(a: CoinSelectionAttempt): CoinSelectionPart | null {
  return a.apsUsed === true ? a.aps : (a.normal ?? a.aps);
}

function sat(value: string | null | undefined): string {
  return value === null || value === undefined ? '' : formatInt64(value);
}

function outcome(a: CoinSelectionAttempt): Cell {
  const part = used(a);
  if (!part || part.success === null) return { text: 'pending', className: 'muted' };
  return part.success ? { text: 'success', className: 'ok' } : { text: 'failed', className: 'bad' };
}

function apsCell(a: CoinSelectionAttempt): Cell {
  if (a.aps === null) return '';
  const parts = [a.apsUsed === true ? 'used' : a.apsUsed === false ? 'not used' : 'tried'];
  if (a.aps.algo) parts.push(a.aps.algo);
  if (a.aps.fee !== null) parts.push(`fee ${formatInt64(a.aps.fee)}`);
  if (a.aps.success === false) parts.push('failed');
  return { text: parts.join(' · '), untrusted: true, className: a.apsUsed ? 'ok' : '' };
}

export const coinSelectionView = defineView<CoinSelectionView, CoinSelectionAttempt>({
  tool: 'coin-selection',
  filterPlaceholder: 'Filter: wallet or algorithm',
  kinds: [
    { value: 'ok', label: 'Succeeded' },
    { value: 'failed', label: 'Failed' },
    { value: 'aps', label: 'Tried APS' },
  ],
  rowNoun: ['attempt', 'attempts'],
  tableTitle: 'Transaction attempts (newest first)',
  summary: (view) => [
    { label: 'Attempts', value: formatCount(view.totalAttempts) },
    { label: 'Succeeded', value: formatCount(view.succeeded), tone: 'ok' },
    { label: 'Failed', value: formatCount(view.failed), tone: view.failed > 0 ? 'alarm' : undefined },
    { label: 'APS used', value: formatCount(view.apsUsed), title: 'Avoid-partial-spends transaction used instead of the normal one' },
    { label: 'Wallets', value: formatCount(view.wallets.length) },
  ],
  charts: () => [],
  columns: [
    { title: 'Time', numeric: true, cell: (a) => formatSessionTime(a.elapsedNs) },
    { title: 'Wallet', cell: (a) => ({ text: a.wallet === '' ? '(default wallet)' : a.wallet, untrusted: a.wallet !== '' }) },
    { title: 'Algorithm', cell: (a) => ({ text: a.normal?.algo ?? '—', untrusted: true }) },
    { title: 'Target', numeric: true, tooltip: 'sat', cell: (a) => sat(a.normal?.target) },
    { title: 'Waste', numeric: true, tooltip: 'sat', cell: (a) => sat(a.normal?.waste) },
    { title: 'Selected', numeric: true, tooltip: 'Selected value, sat', cell: (a) => sat(a.normal?.selectedValue) },
    { title: 'Fee', numeric: true, tooltip: 'Fee of the transaction used, sat', cell: (a) => sat(used(a)?.fee) },
    { title: 'Change', numeric: true, tooltip: 'Change output position (none: no change)', cell: (a) => { const pos = used(a)?.changePos; return pos === null || pos === undefined ? '' : pos < 0 ? 'none' : String(pos); } },
    { title: 'Result', cell: outcome },
    { title: 'APS', tooltip: 'Avoid-partial-spends attempt', cell: apsCell },
  ],
  rows: (view) => newestFirst(view.rows),
  counts: (view) => ({ matching: view.matchingRows, total: view.totalAttempts }),
});
