// What several probes at once cost the node: the tracee's `all` scenario (p2p, utxocache, mempool,
// connections, coin selection, a block every 1,000 steps) at its top rate with nothing attached, one tool,
// two tools and six tools, each tool its own helper session as the extension runs them. Every configuration
// runs once per round, rounds repeat, so each ratio compares runs of the same round.

import { join } from 'node:path';
import { findTool } from '../../src/core/tools/toolCatalog';
import type { BenchContext } from './benchContext';
import { BenchFailure, callRate, type TraceeSummary } from './benchProcesses';
import { figure, formatNumber, type Figure, type TableRow } from './benchStats';
import { runHelperSessions, runUnattached, type HelperSessionOutcome } from './probeRunners';

/** The tool sets, by configuration name; the first is nothing attached. */
export const SEVERAL_CONFIGS: Readonly<Record<string, readonly string[]>> = {
  none: [],
  one: ['p2p-traffic'],
  two: ['p2p-traffic', 'p2p-monitor'],
  six: ['p2p-traffic', 'p2p-monitor', 'p2p-connections', 'connectblock-benchmark', 'utxos', 'mempool-monitor'],
};
const SCENARIO = 'all';
const CALLS = { full: 200_000, quick: 20_000 };

export interface SeveralToolRecord {
  tool: string;
  /** Events of the tool's tracepoints that fired (tracee). */
  fired: number;
  /** Streamed tools: decoded events; aggregating tools: the kernel's count (`@fired`). */
  deliveredOrCounted: number;
  lost: number;
  exact: boolean;
  errors: string[];
}

export interface SeveralRunRecord {
  round: number;
  config: string;
  calls: number;
  elapsedS: number;
  rate: number;
  tools: SeveralToolRecord[];
}

export interface SeveralResults {
  scenario: string;
  calls: number;
  runs: SeveralRunRecord[];
  figures: Record<string, Figure>;
  checks: Record<string, string>;
}

function toolRecord(outcome: HelperSessionOutcome, summary: TraceeSummary, toolId: string): SeveralToolRecord {
  const tool = findTool(toolId);
  if (!tool) throw new BenchFailure(`unknown tool ${toolId}`);
  const fired = tool.tracepoints.reduce((sum, tp) => sum + (summary.fired[tp] ?? 0), 0);
  const lost = (outcome.lostReported ?? 0) + (outcome.lostReconciled ?? 0);
  const kernelExact = tool.tracepoints.every((tp) => {
    const counts = outcome.lastEvents.get('fired');
    return counts?.event === 'fired' && (counts.counts[tp] ?? 0) === (summary.fired[tp] ?? 0);
  });
  const deliveredOrCounted = tool.mode === 'stream' ? (outcome.delivered ?? 0) : (outcome.kernelFired ?? 0);
  const exact = kernelExact && (tool.mode === 'stream' ? deliveredOrCounted + lost === fired : deliveredOrCounted === fired);
  return { tool: toolId, fired, deliveredOrCounted, lost, exact, errors: outcome.errors };
}

export async function runSeveralBench(ctx: BenchContext): Promise<SeveralResults> {
  const calls = ctx.quick ? CALLS.quick : CALLS.full;
  const runs: SeveralRunRecord[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const [config, toolIds] of Object.entries(SEVERAL_CONFIGS)) {
      ctx.log(`several: round ${round}/${ctx.runs}, ${config} (${toolIds.join(' + ') || 'nothing'}), ${calls.toLocaleString('en-US')} calls`);
      const tracee = { binary: ctx.traceeCopy, scenario: SCENARIO, count: calls, summaryPath: join(ctx.workDir, `summary-several-${config}-${round}.json`) };
      let summary: TraceeSummary;
      let tools: SeveralToolRecord[] = [];
      if (toolIds.length === 0) {
        summary = (await runUnattached(tracee)).summary;
      } else {
        const waitAttach = [...new Set(toolIds.flatMap((id) => findTool(id)?.tracepoints ?? []))];
        const outcomes = await runHelperSessions({ tools: toolIds, probesDir: ctx.probesDir, tracee, waitAttach, startWhenAttached: true });
        summary = outcomes[0].summary;
        tools = outcomes.map((o, i) => toolRecord(o, summary, toolIds[i]));
      }
      const record: SeveralRunRecord = { round, config, calls: summary.calls, elapsedS: summary.elapsed_ns / 1e9, rate: callRate(summary), tools };
      ctx.log(
        `  ${formatNumber(record.rate, 'events/s')} calls/s` +
          tools.map((t) => `; ${t.tool} ${t.deliveredOrCounted}+${t.lost} lost of ${t.fired}${t.exact ? '' : ' NOT EXACT'}${t.errors.length ? ` errors: ${t.errors.join(', ')}` : ''}`).join(''),
      );
      runs.push(record);
    }
  }
  return { scenario: SCENARIO, calls, runs, ...summarize(runs) };
}

function summarize(runs: readonly SeveralRunRecord[]): { figures: Record<string, Figure>; checks: Record<string, string> } {
  const figures: Record<string, Figure> = {};
  const checks: Record<string, string> = {};
  const rateOf = (config: string, round: number): number => runs.find((r) => r.config === config && r.round === round)?.rate ?? NaN;
  for (const [config, toolIds] of Object.entries(SEVERAL_CONFIGS)) {
    const records = runs.filter((r) => r.config === config);
    figures[`rate.${config}`] = figure(records.map((r) => r.rate), 'events/s');
    figures[`ratioToNone.${config}`] = figure(records.map((r) => r.rate / rateOf('none', r.round)), 'ratio');
    if (toolIds.length > 1) {
      // Time per call added by each tool beyond the first, against the one-tool run of the same round.
      figures[`extraUsPerTool.${config}`] = figure(
        records.map((r) => (1e6 / r.rate - 1e6 / rateOf('one', r.round)) / (toolIds.length - 1)),
        'µs/call',
      );
      figures[`ratioToOne.${config}`] = figure(records.map((r) => r.rate / rateOf('one', r.round)), 'ratio');
    }
    if (toolIds.length > 0) {
      const passed = records.filter((r) => r.tools.every((t) => t.exact && t.errors.length === 0)).length;
      checks[`several (${config}): every tool delivered or counted every event, no errors`] =
        `${passed === records.length && records.length > 0 ? 'PASS' : 'FAIL'} (${passed}/${records.length} runs)`;
      for (const id of toolIds) {
        const own = records.flatMap((r) => r.tools.filter((t) => t.tool === id));
        figures[`delivered.${config}.${id}`] = figure(own.map((t) => (100 * t.deliveredOrCounted) / t.fired), '%');
        figures[`fired.${config}.${id}`] = figure(own.map((t) => t.fired), 'events');
      }
    }
  }
  return { figures, checks };
}

export function severalTableRows(results: SeveralResults): TableRow[] {
  const section = `several probes: tracee ${results.scenario}, ${results.calls.toLocaleString('en-US')} calls, each tool its own helper session`;
  const rows: TableRow[] = [];
  const f = results.figures;
  for (const [config, toolIds] of Object.entries(SEVERAL_CONFIGS)) {
    const notes = [`×${formatNumber(f[`ratioToNone.${config}`].median, 'ratio')} of untraced`];
    if (f[`ratioToOne.${config}`]) {
      notes.push(`×${formatNumber(f[`ratioToOne.${config}`].median, 'ratio')} of one tool`);
      const extra = f[`extraUsPerTool.${config}`].median;
      notes.push(`${extra < 0 ? '−' : '+'}${formatNumber(Math.abs(extra))} µs/call per extra tool`);
    }
    const check = results.checks[`several (${config}): every tool delivered or counted every event, no errors`];
    if (check) notes.push(`all delivered/counted: ${check}`);
    rows.push({ section, name: `${config}: ${toolIds.join(' + ') || 'nothing attached'}: calls/s`, figure: f[`rate.${config}`], note: notes.join('; ') });
    for (const id of toolIds) {
      rows.push({
        section,
        name: `  ${id} delivered or counted / fired`,
        figure: f[`delivered.${config}.${id}`],
        note: `of ${formatNumber(f[`fired.${config}.${id}`].median, 'events')} fired`,
      });
    }
  }
  return rows;
}
