// The top of a panel: the session picker, the shown session's state, the loss banner (the session account:
// lost events, cut strings, unreadable events) and the session's warnings. Every string from the session goes
// in through setUntrustedText / visibleText.
import type { SessionChoice } from '../../src/shared/panelProtocol';
import type { NamedCount, SessionStatus } from '../../src/shared/p2pProtocol';
import { el, formatCount, plural, setText, setUntrustedText, visibleText } from './dom';
import { NodeSelector } from './nodeSelector';
import type { PagePart } from './pageConnection';

/** The session picker: newest first, each with its state; disabled while there is nothing to pick. */
export class SessionPicker {
  readonly element = el('label', 'session-picker');
  private readonly select = el('select');
  private shown = '';
  private current: string | null = null;

  constructor(onPick: (sessionId: string) => void) {
    this.element.append(el('span', 'label', 'Session'));
    this.select.setAttribute('aria-label', 'Session');
    this.element.append(this.select);
    this.select.addEventListener('change', () => {
      if (this.select.value && this.select.value !== this.current) onPick(this.select.value);
    });
  }

  update(sessions: readonly SessionChoice[], currentId: string | null): void {
    this.current = currentId;
    const wanted = sessions.map((s) => `${s.id}\u0001${s.label}\u0001${s.ended}`).join('\u0002');
    if (this.shown !== wanted) {
      this.shown = wanted;
      this.select.textContent = '';
      for (const session of [...sessions].reverse()) {
        const option = el('option', undefined, `${visibleText(session.label)} — ${session.source === 'recording' ? 'recording' : session.ended ? 'ended' : 'live'}`);
        option.value = session.id;
        this.select.append(option);
      }
    }
    this.select.value = currentId ?? '';
    this.select.disabled = sessions.length < 2;
    this.element.hidden = sessions.length === 0;
  }
}

/**
 * "Kernel filter…": restarts the session shown with filters applied in the kernel, offered only while it runs and
 * its tool takes them (the host marks its choice `filterable`). A PagePart: takes `pressKernelFilter` (tests).
 */
export class KernelFilterButton implements PagePart {
  readonly element = el('button', 'kernel-filter', 'Kernel filter…');
  private filterableSession: string | null = null;

  /** `onKernelFilter`: the user asks to filter the session shown in the kernel (the page posts `filterInKernel`). */
  constructor(onKernelFilter: (sessionId: string) => void) {
    this.element.type = 'button';
    this.element.title = 'Restart this probe with filters applied in the kernel: only matching events are streamed, the counts kept in the kernel (fired, per peer, per operation) stay exact over all';
    this.element.hidden = true;
    this.element.addEventListener('click', () => {
      if (this.filterableSession !== null) onKernelFilter(this.filterableSession);
    });
  }

  /** The button is offered (for render reports). */
  get shown(): boolean {
    return !this.element.hidden;
  }

  /** Offered for `choice` (the session shown) while it takes filters and has not ended. */
  update(choice: SessionChoice | undefined, ended: boolean): void {
    this.filterableSession = choice?.filterable === true && !ended ? choice.id : null;
    this.element.hidden = this.filterableSession === null;
  }

  /** Presses the button as the user would (tests); nothing while it is not offered. */
  take(message: { readonly type: string }): boolean {
    if (message.type !== 'pressKernelFilter') return false;
    if (!this.element.hidden) this.element.click();
    return true;
  }
}

/** The session account a header shows. */
export interface SessionAccount {
  readonly lostEvents: number;
  readonly truncatedStrings: number;
  readonly truncatedByField: readonly NamedCount[];
  readonly ignoredEvents: number;
}

/** Picker, session state and loss banner in one toolbar, with the notes bar below it. */
export class SessionHeader implements PagePart {
  readonly toolbar = el('header', 'toolbar');
  readonly notesBar = el('div', 'notes');
  readonly picker: SessionPicker;
  /** The node selector (sessions over every process of a build); `onSelectNode` posts `selectNode`. */
  readonly nodes: NodeSelector;
  private readonly sessionState = el('span', 'session-state');
  readonly lossBanner = el('div', 'loss-banner');
  readonly lostCounter = el('span', 'counter lost');
  readonly cutCounter = el('span', 'counter cut');
  private readonly ignoredCounter = el('span', 'counter ignored');
  private readonly kernelFilter: KernelFilterButton;

  /** `title`: shown before the picker; `ignoredAs`: unreadable events as a banner counter or as a warning note. */
  constructor(
    onPick: (sessionId: string) => void,
    private readonly options: {
      readonly title?: HTMLElement;
      readonly ignoredAs: 'counter' | 'note';
      readonly onSelectNode: (nodeKey: string | null) => void;
      /** The host sent the session's nodes (redraw what shows them, e.g. a Node column). */
      readonly onNodes: () => void;
      /** The user asks to filter the session shown in the kernel (the page posts `filterInKernel`). */
      readonly onKernelFilter: (sessionId: string) => void;
    },
  ) {
    this.picker = new SessionPicker(onPick);
    this.nodes = new NodeSelector(options.onSelectNode, options.onNodes);
    this.lossBanner.setAttribute('role', 'status');
    this.lossBanner.append(this.lostCounter, this.cutCounter);
    if (options.ignoredAs === 'counter') this.lossBanner.append(this.ignoredCounter);
    this.kernelFilter = new KernelFilterButton(options.onKernelFilter);
    this.toolbar.append(...(options.title ? [options.title] : []), this.picker.element, this.nodes.element, this.sessionState, this.kernelFilter.element, el('span', 'spacer'), this.lossBanner);
  }

  /** The "Kernel filter…" button is offered (for render reports). */
  get kernelFilterShown(): boolean {
    return this.kernelFilter.shown;
  }

  /** Takes the node selector's messages and `pressKernelFilter`. */
  take(message: { readonly type: string }): boolean {
    return this.nodes.take(message) || this.kernelFilter.take(message);
  }

  /** What the state line says (for render reports). */
  get stateText(): string {
    return this.sessionState.textContent ?? '';
  }

  update(sessions: readonly SessionChoice[], currentId: string | null, status: SessionStatus | null, account: SessionAccount | null): void {
    this.picker.update(sessions, currentId);
    const choice = sessions.find((s) => s.id === currentId);
    this.kernelFilter.update(choice, status?.ended ?? false);
    const starting = liveSessionStarting(choice, status && { ...status, helperConnected: status.tool !== '' });
    if (choice && starting) {
      setText(this.sessionState, `${choice.tool} · ${starting}`);
      this.sessionState.className = 'session-state starting';
    } else if (status && choice) {
      const parts = [choice.source === 'recording' ? 'Recording' : status.ended ? 'Ended' : 'Live', status.tool || choice.tool];
      if (status.pid !== null) parts.push(`pid ${status.pid}`);
      if (status.attachedProbes !== null) parts.push(`${status.attachedProbes} probes`);
      if (status.ended && status.endReason && choice.source === 'live') parts.push(status.endReason);
      setUntrustedText(this.sessionState, parts.join(' · '));
      this.sessionState.className = `session-state ${choice.source === 'live' && !status.ended ? 'live' : ''}`;
    } else {
      setText(this.sessionState, '');
    }

    const lost = account?.lostEvents ?? 0;
    const cut = account?.truncatedStrings ?? 0;
    const ignored = account?.ignoredEvents ?? 0;
    setText(this.lostCounter, `Lost events: ${formatCount(lost)}`);
    this.lostCounter.title = 'Events that fired in bitcoind but never reached the extension (kernel counts − delivered)';
    setText(this.cutCounter, `Cut strings: ${formatCount(cut)}`);
    const cutFields = account?.truncatedByField.map((f) => `${f.name} ${formatCount(f.count)}`).join(', ') ?? '';
    this.cutCounter.title = cutFields ? `Strings cut at the probe's limit: ${visibleText(cutFields)}` : "Strings cut at the probe's string limit";
    setText(this.ignoredCounter, `Unreadable: ${formatCount(ignored)}`);
    this.ignoredCounter.title = 'Events with fields of the wrong type (damaged or hand-made recordings), skipped';
    this.ignoredCounter.hidden = ignored === 0;
    this.lostCounter.classList.toggle('alarm', lost !== 0);
    this.cutCounter.classList.toggle('alarm', cut > 0);
    this.ignoredCounter.classList.toggle('alarm', ignored > 0);
    this.lossBanner.classList.toggle('alarm', lost !== 0 || cut > 0);

    this.notesBar.textContent = '';
    for (const note of (status?.notes ?? []).filter((n) => n.level !== 'info').slice(-3)) {
      const line = el('div', `note ${note.level}`);
      setUntrustedText(line, note.message);
      this.notesBar.append(line);
    }
    if (this.options.ignoredAs === 'note' && ignored > 0) {
      this.notesBar.append(el('div', 'note warning', `${formatCount(ignored)} ${plural(ignored, 'event', 'events')} with fields of the wrong type were skipped.`));
    }
    this.notesBar.hidden = this.notesBar.childElementCount === 0;
  }
}

/**
 * What a live session that is not attached yet is doing, or null once it is attached (or ended, or a
 * recording): before the helper connects, the launcher's words (the password, polkit, starting); after, the
 * helper is checking, compiling and attaching.
 */
export function liveSessionStarting(
  choice: SessionChoice | undefined,
  status: { readonly ended: boolean; readonly attachedProbes: number | null; readonly helperConnected: boolean } | null,
): string | null {
  if (!choice || choice.source !== 'live' || choice.ended || status?.ended) return null;
  if (status && status.attachedProbes !== null) return null;
  if (!status || !status.helperConnected) return choice.startingText ?? 'starting';
  return 'attaching the probes';
}
