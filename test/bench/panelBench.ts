// Measurement `panels`: the P2P panel's webview (the real dist/webview/p2pPanel.js bundle and its CSS) in
// headless Chromium, fed the messages the host posts, built by the real P2pAggregator from 1,000 peers and
// 100,000 buffered messages. Webview-side timing: performance.now() around each animation-frame render
// (the panel renders in requestAnimationFrame) plus a forced layout, and the message handler itself.
// Not inside VS Code (the webview's own cost, isolated): vscodePanelBench.ts measures the panels in VS Code.

import { promises as fs } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { NetMessageEvent } from '../../src/core/events/eventTypes';
import { P2pAggregator } from '../../src/core/p2p/p2pAggregator';
import { DEFAULT_UI_STATE, type ToWebview } from '../../src/shared/p2pProtocol';
import type { BenchContext } from './benchContext';
import { BenchFailure } from './benchProcesses';
import { figure, type Figure, type TableRow } from './benchStats';
import { BENCH_MESSAGES as MESSAGES, BENCH_PEERS as PEERS, benchElapsedNs, benchMessage, benchTraffic } from './panelWorkload';

export const FRAME_BUDGET_MS = 16;
const CHROMIUM = '/usr/bin/chromium';
const UPDATES = 30;

export interface PanelRun {
  /** Script load to the end of the first frame that shows the snapshot (layout included). */
  firstPaintMs: number;
  /** Message handler (apply the snapshot to the model) alone. */
  snapshotHandlerMs: number;
  /** Per update: message handler + the frame's render + forced layout. */
  updateMs: number[];
  peerRows: number;
  messageRows: number;
}

export interface PanelResults {
  peers: number;
  messages: number;
  runs: PanelRun[];
  figures: Record<string, Figure>;
  targetMet: boolean;
}

/** What the host would post: a snapshot of a session of PEERS peers and MESSAGES messages, then deltas. */
export function hostMessages(): { snapshot: ToWebview; deltas: ToWebview[] } {
  const aggregator = new P2pAggregator({ maxPeers: PEERS * 2 });
  aggregator.ingestAll(benchTraffic());
  const selectedPeerId = aggregator.snapshot().peers[0]?.id ?? null;
  const sessionId = 'bench';
  const snapshot: ToWebview = {
    type: 'snapshot',
    sessionId,
    sessions: [{ id: sessionId, label: 'bench recording', source: 'recording', tool: 'p2p-traffic', startedAt: new Date(0).toISOString(), ended: false }],
    snapshot: aggregator.snapshot(),
    peerDetail: selectedPeerId === null ? null : aggregator.peerDetail(selectedPeerId),
    uiState: { ...DEFAULT_UI_STATE, sessionId, selectedPeerId },
  };
  aggregator.delta();
  const deltas: ToWebview[] = [];
  for (let u = 0; u < UPDATES; u++) {
    // Every peer sends in every update: the worst case for the table (all 1,000 rows change).
    const updates: NetMessageEvent[] = [];
    for (let peer = 0; peer < PEERS; peer++) updates.push(benchMessage(u * PEERS + peer, peer, benchElapsedNs(MESSAGES + u * PEERS + peer)));
    aggregator.ingestAll(updates);
    deltas.push({
      type: 'delta',
      sessionId,
      delta: aggregator.delta(),
      peerDetail: selectedPeerId === null ? null : aggregator.peerDetail(selectedPeerId),
    });
  }
  return { snapshot, deltas };
}

/** Installed before the panel's script: a fake VS Code API and timing around animation frames. */
export const PAGE_SETUP = `
window.__posted = [];
window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: () => undefined });
window.__frameMs = [];
const nativeRaf = window.requestAnimationFrame.bind(window);
window.__nativeRaf = nativeRaf;
window.requestAnimationFrame = (callback) => nativeRaf((time) => {
  const start = performance.now();
  callback(time);
  void document.body.offsetHeight;
  window.__frameMs.push(performance.now() - start);
});
window.__deliver = (message) => {
  const start = performance.now();
  window.dispatchEvent(new MessageEvent('message', { data: message }));
  const handlerMs = performance.now() - start;
  const framesBefore = window.__frameMs.length;
  return new Promise((resolve) => nativeRaf(() => nativeRaf(() => resolve({
    handlerMs,
    frameMs: window.__frameMs.slice(framesBefore).reduce((a, b) => a + b, 0),
    sinceStartMs: performance.now() - start,
  }))));
};
`;

interface Delivery {
  handlerMs: number;
  frameMs: number;
  sinceStartMs: number;
}

async function measureOnce(browser: Browser, repoRoot: string, messages: { snapshot: ToWebview; deltas: ToWebview[] }): Promise<PanelRun> {
  const webview = join(repoRoot, 'dist', 'webview');
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.setContent('<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"></head><body><div id="app" class="app"><p class="loading">Loading…</p></div></body></html>');
    await page.addStyleTag({ path: join(webview, 'uPlot.min.css') });
    await page.addStyleTag({ path: join(webview, 'p2pPanel.css') });
    await page.addScriptTag({ content: PAGE_SETUP });
    await page.evaluate((m) => {
      (window as unknown as { __messages: unknown }).__messages = m;
    }, messages);
    const script = await fs.readFile(join(webview, 'p2pPanel.js'), 'utf8');
    await page.evaluate((source) => {
      (window as unknown as { __script: string }).__script = source;
    }, script);
    const first = await page.evaluate(async () => {
      const w = window as unknown as {
        __script: string; __messages: { snapshot: unknown }; __deliver(m: unknown): Promise<Delivery>;
      };
      const start = performance.now();
      const tag = document.createElement('script');
      tag.textContent = w.__script;
      document.body.appendChild(tag);
      const delivery = await w.__deliver(w.__messages.snapshot);
      return { ...delivery, firstPaintMs: performance.now() - start };
    });
    const updateMs: number[] = [];
    for (let i = 0; i < messages.deltas.length; i++) {
      const d = await page.evaluate(async (index) => {
        const w = window as unknown as { __messages: { deltas: unknown[] }; __deliver(m: unknown): Promise<Delivery> };
        return w.__deliver(w.__messages.deltas[index]);
      }, i);
      updateMs.push(d.handlerMs + d.frameMs);
    }
    const rows = await page.evaluate(() => ({
      peerRows: document.querySelectorAll('table tbody tr').length,
      messageRows: document.querySelectorAll('tr').length,
    }));
    return { firstPaintMs: first.firstPaintMs, snapshotHandlerMs: first.handlerMs, updateMs, peerRows: rows.peerRows, messageRows: rows.messageRows };
  } finally {
    await page.close();
  }
}

export async function runPanelBench(ctx: BenchContext): Promise<PanelResults> {
  if (!existsSync(CHROMIUM)) throw new BenchFailure(`${CHROMIUM} is missing: install chromium`);
  if (!existsSync(join(ctx.repoRoot, 'dist', 'webview', 'p2pPanel.js'))) throw new BenchFailure('dist/webview/p2pPanel.js is missing: run node scripts/build.mjs');
  ctx.log(`panels: building the host's messages (${PEERS} peers, ${MESSAGES.toLocaleString('en-US')} messages, ${UPDATES} deltas)`);
  const messages = hostMessages();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const runs: PanelRun[] = [];
  try {
    for (let round = 1; round <= ctx.runs; round++) {
      const run = await measureOnce(browser, ctx.repoRoot, messages);
      const sorted = [...run.updateMs].sort((a, b) => a - b);
      ctx.log(
        `panels: round ${round}/${ctx.runs}, first paint ${run.firstPaintMs.toFixed(1)} ms, update median ` +
          `${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (${run.peerRows} rows)`,
      );
      runs.push(run);
    }
  } finally {
    await browser.close();
  }
  const median = (values: number[]): number => figure(values, '').median;
  const figures: Record<string, Figure> = {
    firstPaintMs: figure(runs.map((r) => r.firstPaintMs), 'ms'),
    snapshotHandlerMs: figure(runs.map((r) => r.snapshotHandlerMs), 'ms'),
    updateMedianMs: figure(runs.map((r) => median(r.updateMs)), 'ms'),
    updateMaxMs: figure(runs.map((r) => Math.max(...r.updateMs)), 'ms'),
  };
  return { peers: PEERS, messages: MESSAGES, runs, figures, targetMet: figures.updateMedianMs.median < FRAME_BUDGET_MS };
}

export function panelTableRows(results: PanelResults): TableRow[] {
  const section = `4. P2P panel webview in headless Chromium (${results.peers} peers, ${results.messages.toLocaleString('en-US')} messages)`;
  const f = results.figures;
  return [
    { section, name: 'first paint in headless Chromium, P2P bundle alone (script load → frame)', figure: f.firstPaintMs },
    { section, name: 'snapshot message handler in headless Chromium', figure: f.snapshotHandlerMs },
    {
      section, name: 'P2P update in headless Chromium (all 1,000 peers changed): median', figure: f.updateMedianMs,
      note: `target < ${FRAME_BUDGET_MS} ms: ${results.targetMet ? 'met' : 'NOT met'}`,
    },
    { section, name: 'P2P update in headless Chromium: slowest of the run', figure: f.updateMaxMs },
  ];
}
