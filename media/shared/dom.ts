// DOM helpers for every panel page: text only. Strings from tracepoints go into the DOM as text nodes, with
// invisible and reordering characters shown as visible escapes (src/shared/visibleText.ts).
import { splitVisibleText } from '../../src/shared/visibleText';
import type { ActiveElementCounts } from '../../src/shared/panelProtocol';

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

export {
  countOf,
  formatAxisTime,
  formatBtc,
  formatBytes,
  formatCount,
  formatDecimal,
  formatDuration,
  formatInt64,
  formatSessionTime,
  formatTwoDecimals,
  formatWholeSeconds,
  plural,
} from '../../src/shared/format';

export function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

/** The theme's colours for what the pages draw (read when drawing: they change with the theme). */
export function themeColors(): { readonly blue: string; readonly orange: string; readonly red: string; readonly foreground: string; readonly grid: string; readonly fontFamily: string } {
  return {
    blue: cssColor('--vscode-charts-blue', '#3794ff'),
    orange: cssColor('--vscode-charts-orange', '#d18616'),
    red: cssColor('--vscode-charts-red', '#f14c4c'),
    foreground: cssColor('--vscode-descriptionForeground', '#888'),
    grid: cssColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)'),
    fontFamily: cssColor('--vscode-font-family', 'sans-serif'),
  };
}

/** Elements that could load, run or link something: a panel's own UI never has any. */
const ACTIVE_ELEMENTS = 'img, script, iframe, object, embed, a, style, link, svg, video, audio, form, meta, base';

/** The render report's safety counts: active elements inside the panel's UI, <img> anywhere in the document. */
export function activeElementCounts(app: Element): ActiveElementCounts {
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
