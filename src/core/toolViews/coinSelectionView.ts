// coin-selection: groups the wallet's tracepoints into one row per transaction attempt, per wallet:
// selected_coins → normal_create_tx_internal [→ attempting_aps_create_tx → selected_coins →
// aps_create_tx_internal]. A create_tx without a selected_coins before it is an attempt whose selection
// failed (Bitcoin Core fires selected_coins only for a successful selection).

import { MAX_SENT_ROWS, type CoinSelectionAttempt, type CoinSelectionPart, type CoinSelectionView, type ToolFilter } from '../../shared/toolPanelProtocol';
import { boolField, int64Text, numberField, stringField, type ToolEventLike } from './eventFields';
import { BoundedRing } from './secondBuckets';
import { filterNeedle, ToolViewBase, type ToolViewOptions } from './toolViewBase';

type Phase = 'normalSelected' | 'normalDone' | 'apsPending' | 'apsSelected' | 'done';

interface MutablePart {
  algo: string | null;
  target: string | null;
  waste: string | null;
  selectedValue: string | null;
  fee: string | null;
  changePos: number | null;
  success: boolean | null;
}

interface AttemptState {
  readonly seq: number;
  readonly elapsedNs: number;
  readonly wallet: string;
  normal: MutablePart | null;
  aps: MutablePart | null;
  apsUsed: boolean | null;
  phase: Phase;
}

function emptyPart(): MutablePart {
  return { algo: null, target: null, waste: null, selectedValue: null, fee: null, changePos: null, success: null };
}

function partSucceeded(part: CoinSelectionPart | null): boolean | null {
  return part ? part.success : null;
}

/** The attempt's outcome: the APS result when it was used, else the normal one. */
export function attemptSucceeded(attempt: CoinSelectionAttempt): boolean | null {
  if (attempt.apsUsed === true) return partSucceeded(attempt.aps);
  return partSucceeded(attempt.normal) ?? partSucceeded(attempt.aps);
}

export class CoinSelectionAggregator extends ToolViewBase {
  readonly tool = 'coin-selection' as const;
  private readonly attempts: BoundedRing<AttemptState>;
  private readonly current = new Map<string, AttemptState>();
  private readonly wallets = new Map<string, number>();
  private seq = 0;

  constructor(options: ToolViewOptions & { maxAttempts?: number; maxWallets?: number } = {}) {
    super(options);
    this.attempts = new BoundedRing<AttemptState>(options.maxAttempts ?? 5_000);
    this.maxWallets = options.maxWallets ?? 256;
  }

  private readonly maxWallets: number;

  private begin(wallet: string, elapsedNs: number, phase: Phase): AttemptState {
    const attempt: AttemptState = { seq: ++this.seq, elapsedNs, wallet, normal: null, aps: null, apsUsed: null, phase };
    this.attempts.push(attempt);
    this.current.set(wallet, attempt);
    if (this.current.size > this.maxWallets) {
      const oldest = this.current.keys().next().value;
      if (oldest !== undefined) this.current.delete(oldest);
    }
    if (this.wallets.has(wallet) || this.wallets.size < this.maxWallets) this.wallets.set(wallet, (this.wallets.get(wallet) ?? 0) + 1);
    return attempt;
  }

  protected ingestToolEvent(event: ToolEventLike, f: Readonly<Record<string, unknown>>, elapsedNs: number): 'accepted' | 'ignored' | 'other' {
    if (!event.event.startsWith('coin_selection:')) return 'other';
    const wallet = stringField(f.wallet_name);
    if (wallet === null) return 'ignored';
    const current = this.current.get(wallet);
    switch (event.event) {
      case 'coin_selection:selected_coins': {
        const selection = { ...emptyPart(), algo: stringField(f.algo), target: int64Text(f.target), waste: int64Text(f.waste), selectedValue: int64Text(f.selected_value) };
        if (current && current.phase === 'apsPending') {
          current.aps = { ...selection };
          current.phase = 'apsSelected';
        } else {
          this.begin(wallet, elapsedNs, 'normalSelected').normal = selection;
        }
        return 'accepted';
      }
      case 'coin_selection:normal_create_tx_internal': {
        const attempt = current && current.phase === 'normalSelected' ? current : this.begin(wallet, elapsedNs, 'normalDone');
        const part = attempt.normal ?? emptyPart();
        part.success = boolField(f.success);
        part.fee = int64Text(f.fee);
        part.changePos = numberField(f.change_pos);
        attempt.normal = part;
        attempt.phase = 'normalDone';
        return 'accepted';
      }
      case 'coin_selection:attempting_aps_create_tx': {
        const attempt = current && current.phase === 'normalDone' ? current : this.begin(wallet, elapsedNs, 'apsPending');
        attempt.aps = emptyPart();
        attempt.phase = 'apsPending';
        return 'accepted';
      }
      case 'coin_selection:aps_create_tx_internal': {
        const attempt = current && (current.phase === 'apsPending' || current.phase === 'apsSelected') ? current : this.begin(wallet, elapsedNs, 'apsPending');
        const part = attempt.aps ?? emptyPart();
        part.success = boolField(f.success);
        part.fee = int64Text(f.fee);
        part.changePos = numberField(f.change_pos);
        attempt.aps = part;
        attempt.apsUsed = boolField(f.use_aps);
        attempt.phase = 'done';
        return 'accepted';
      }
      default:
        return 'ignored';
    }
  }

  private row(state: AttemptState): CoinSelectionAttempt {
    return {
      seq: state.seq,
      elapsedNs: state.elapsedNs,
      wallet: state.wallet,
      normal: state.normal ? { ...state.normal } : null,
      aps: state.aps ? { ...state.aps } : null,
      apsUsed: state.apsUsed,
    };
  }

  protected buildView(filter: ToolFilter): CoinSelectionView {
    const needle = filterNeedle(filter);
    let succeeded = 0;
    let failed = 0;
    let apsUsed = 0;
    const all = this.attempts.newestMatching(Number.MAX_SAFE_INTEGER, () => true).items.map((s) => this.row(s));
    for (const attempt of all) {
      const outcome = attemptSucceeded(attempt);
      if (outcome === true) succeeded++;
      else if (outcome === false) failed++;
      if (attempt.apsUsed === true) apsUsed++;
    }
    const matching = all.filter((attempt) => {
      const outcome = attemptSucceeded(attempt);
      if (filter.kind === 'ok' && outcome !== true) return false;
      if (filter.kind === 'failed' && outcome !== false) return false;
      if (filter.kind === 'aps' && attempt.aps === null) return false;
      if (needle === '') return true;
      return attempt.wallet.toLowerCase().includes(needle) || [attempt.normal?.algo, attempt.aps?.algo].some((a) => a?.toLowerCase().includes(needle));
    });
    return {
      tool: 'coin-selection',
      rows: matching.slice(-MAX_SENT_ROWS),
      matchingRows: matching.length,
      totalAttempts: this.seq,
      forgottenAttempts: this.attempts.droppedCount,
      succeeded,
      failed,
      apsUsed,
      wallets: [...this.wallets].map(([name, count]) => ({ name, count })),
    };
  }
}
