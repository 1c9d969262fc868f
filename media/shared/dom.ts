// DOM helpers for every panel page: text only. Strings from tracepoints go into the DOM as text nodes, with
// invisible and reordering characters shown as visible escapes (src/shared/visibleText.ts).
import { splitVisibleText } from '../../src/shared/visibleText';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** What setText / setUntrustedText last put into an element, to skip rewriting the same text. */
const shownText = new WeakMap<Element, { readonly key: string; readonly text: string }>();

function alreadyShown(target: Element, key: string): boolean {
  const shown = shownText.get(target);
  // Checked against the element too: other code may have replaced its content since.
  return shown !== undefined && shown.key === key && target.textContent === shown.text;
}

/**
 * The one way untrusted text (from tracepoints, peers, recordings) enters a page: as text nodes only, with
 * control, invisible and reordering (bidi) characters shown as visible escapes in styled spans; the element's
 * tooltip carries the same visible form.
 */
export function setUntrustedText(target: Element, text: string): void {
  if (alreadyShown(target, `u${text}`)) return;
  const parts = splitVisibleText(text);
  const visible = parts.map((p) => p.text).join('');
  if (target instanceof HTMLElement) target.title = visible;
  if (parts.length === 1 && !parts[0].escaped) {
    target.textContent = parts[0].text;
  } else {
    target.textContent = '';
    for (const part of parts) {
      if (part.escaped) target.appendChild(el('span', 'escaped', part.text));
      else target.appendChild(document.createTextNode(part.text));
    }
  }
  shownText.set(target, { key: `u${text}`, text: visible });
}

/** Text the page made itself (numbers, labels): no escapes needed. */
export function setText(target: Element, text: string): void {
  if (alreadyShown(target, `t${text}`)) return;
  target.textContent = text;
  if (target instanceof HTMLElement && target.title) target.title = '';
  shownText.set(target, { key: `t${text}`, text });
}

/** Visible form of an untrusted string for places that only take plain text (option labels, titles). */
export function visibleText(text: string): string {
  return splitVisibleText(text)
    .map((p) => p.text)
    .join('');
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatDecimal(value: number): string {
  return oneDecimal.format(value);
}

export function formatTwoDecimals(value: number): string {
  return twoDecimals.format(value);
}

/** An int64 decimal string with thousands separators, exact (no conversion through a double). */
export function formatInt64(text: string): string {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  return (negative ? '−' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Satoshis (int64 decimal string) as BTC with 8 decimals, exact. */
export function formatBtc(sat: string): string {
  const negative = sat.startsWith('-');
  const digits = (negative ? sat.slice(1) : sat).padStart(9, '0');
  const whole = digits.slice(0, -8).replace(/^0+(?=\d)/, '');
  return `${negative ? '−' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${digits.slice(-8)}`;
}

export function formatBytes(value: number): string {
  const abs = Math.abs(value);
  if (abs < 1024) return `${integer.format(value)} B`;
  if (abs < 1024 * 1024) return `${oneDecimal.format(value / 1024)} KiB`;
  if (abs < 1024 * 1024 * 1024) return `${oneDecimal.format(value / (1024 * 1024))} MiB`;
  return `${oneDecimal.format(value / (1024 * 1024 * 1024))} GiB`;
}

/** Session time: [h:]mm:ss.mmm since the session started. */
export function formatSessionTime(elapsedNs: number): string {
  const totalMs = Math.floor(elapsedNs / 1e6);
  const ms = totalMs % 1000;
  const totalSeconds = Math.floor(totalMs / 1000);
  const seconds = totalSeconds % 60;
  const minutes = Math.floor(totalSeconds / 60) % 60;
  const hours = Math.floor(totalSeconds / 3600);
  const mmss = `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}.${String(ms).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

/** A duration in ns: µs, ms, s, min or h as fits. */
export function formatDuration(ns: number): string {
  if (ns < 1e6) return `${oneDecimal.format(ns / 1e3)} µs`;
  if (ns < 1e9) return `${oneDecimal.format(ns / 1e6)} ms`;
  if (ns < 60e9) return `${oneDecimal.format(ns / 1e9)} s`;
  if (ns < 3600e9) return `${Math.floor(ns / 60e9)} min ${Math.floor((ns % 60e9) / 1e9)} s`;
  if (ns < 48 * 3600e9) return `${Math.floor(ns / 3600e9)} h ${Math.floor((ns % 3600e9) / 60e9)} min`;
  return `${Math.floor(ns / 86400e9)} d ${Math.floor((ns % 86400e9) / 3600e9)} h`;
}

/** Seconds since the session started as m:ss (h:mm:ss from an hour on), for time axes. */
export function formatAxisTime(seconds: number): string {
  const s = Math.round(seconds);
  const minutes = Math.floor(s / 60);
  const ss = String(s % 60).padStart(2, '0');
  return minutes >= 60 ? `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${ss}` : `${minutes}:${ss}`;
}

/** The noun for a count: plural(1, 'peer', 'peers') is 'peer'. */
export function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

export function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** Elements that could load, run or link something: a panel's own UI never has any. */
const ACTIVE_ELEMENTS = 'img, script, iframe, object, embed, a, style, link, svg, video, audio, form, meta, base';

/** The render report's safety counts: active elements inside the panel's UI, <img> anywhere in the document. */
export function activeElementCounts(app: Element): { readonly activeElementsInPanel: number; readonly imgElementsInDocument: number } {
  return { activeElementsInPanel: app.querySelectorAll(ACTIVE_ELEMENTS).length, imgElementsInDocument: document.querySelectorAll('img').length };
}

/** Runs `render` once in the next animation frame however often it is asked before then. */
export class FrameScheduler {
  private requested = false;

  constructor(private readonly render: () => void) {}

  /** A frame is asked for and not drawn yet. */
  get pending(): boolean {
    return this.requested;
  }

  schedule(): void {
    if (this.requested) return;
    this.requested = true;
    requestAnimationFrame(() => {
      this.requested = false;
      this.render();
    });
  }
}
