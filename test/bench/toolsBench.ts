// Measurements 1 and 2 for every other tool: what attaching each tool costs the traced program, and what
// it delivers, on the tracee scenario that fires the tool's tracepoints, at the tracee's top rate. Per tool
// and round: nothing attached, a bare bpftrace count on the same tracepoints (the reference), the tool
// through the real helper pipeline, and a contrib-style printf script (contribScripts.ts), one after the
// other (bpftrace and BCC cannot attach to the same v29 tracepoints at once).

import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { NormalizedEvent } from '../../src/core/events/eventTypes';
import { findTool, type ToolDefinition } from '../../src/core/tools/toolCatalog';
import type { BenchContext } from './benchContext';
import { BenchFailure, callRate, runToEnd, type TraceeSummary } from './benchProcesses';
import { figure, formatNumber, type Figure, type TableRow } from './benchStats';
import { CONTRIB_SCRIPTS } from './contribScripts';
import { runBareCount, runContribPrintf, runHelperSession, runUnattached, type AttachOutcome } from './probeRunners';

export const TOOL_CONFIGS = ['unattached', 'bare-count', 'tool', 'contrib-printf'] as const;
export type ToolConfig = (typeof TOOL_CONFIGS)[number];

interface ToolBenchSpec {
  tool: string;
  /** The tracee scenario that fires the tool's tracepoints. */
  scenario: string;
  /** Tracepoint calls per run (the tracee's --count), full and with --quick. */
  calls: { full: number; quick: number };
}

/**
 * Calls are chosen so that a full run (3 rounds, 4 configurations each) stays within about five minutes on
 * the 2-core project machines: a streamed event costs the tracee ~10–30 µs, so ~100,000 events take 2–4 s,
 * next to 1–5 s of attaching per configuration.
 */
export const TOOL_SPECS: readonly ToolBenchSpec[] = [
  { tool: 'p2p-connections', scenario: 'connections', calls: { full: 100_000, quick: 10_000 } },
  { tool: 'connectblock-benchmark', scenario: 'validation', calls: { full: 100_000, quick: 10_000 } },
  // One call in 100 of the utxocache scenario is a flush; the others are coin operations, not attached here.
  { tool: 'utxocache-flush', scenario: 'utxocache', calls: { full: 2_000_000, quick: 200_000 } },
  { tool: 'utxos', scenario: 'utxocache', calls: { full: 100_000, quick: 10_000 } },
  { tool: 'coin-selection', scenario: 'coin-selection', calls: { full: 100_000, quick: 10_000 } },
  // 12 messages per cycle take ~1.4 MiB of raw-p2p-msgs' 128 MiB ring (among them a 1,000,000-byte block):
  // 2,400 calls ask for about twice the ring at once; the 240 of --quick fit in it.
  { tool: 'raw-p2p-msgs', scenario: 'raw', calls: { full: 2_400, quick: 240 } },
  { tool: 'mempool-monitor', scenario: 'mempool', calls: { full: 100_000, quick: 10_000 } },
];

const CONFIG_LABELS: Record<ToolConfig, string> = {
  unattached: 'nothing attached (semaphores off)',
  'bare-count': 'bare bpftrace @c = count()',
  tool: 'the tool via helper → decoder',
  'contrib-printf': 'contrib-style printf → file',
};

/** A figure the kernel aggregates, against the tracee's own count. */
export interface AggregateComparison {
  what: string;
  expected: number;
  got: number | null;
}

export interface ToolRunRecord {
  tool: string;
  round: number;
  config: ToolConfig;
  calls: number;
  elapsedS: number;
  /** Tracepoint calls per second (the tracee's own clock). */
  rate: number;
  /** The tool's tracepoints: events fired (tracee), in all and per tracepoint, and fired per second. */
  fired: number;
  firedByTracepoint: Record<string, number>;
  firedRate: number;
  /** Events decoded (tool), printed lines (contrib), the kernel count (bare); null with nothing attached. */
  delivered: number | null;
  deliveredByTracepoint: Record<string, number> | null;
  lostReported: number | null;
  lostReconciled: number | null;
  /** The kernel's own count per tracepoint (`@fired`), as the tool reports it. */
  kernelFiredByTracepoint: Record<string, number> | null;
  /** Kernel-aggregated figures against the tracee's counts (utxos @ops, benchmark totals). */
  aggregates: AggregateComparison[];
  errors: string[];
  warnings: string[];
}

export interface ToolResult {
  tool: string;
  front: 'bpftrace' | 'BCC';
  mode: ToolDefinition['mode'];
  scenario: string;
  calls: number;
  tracepoints: readonly string[];
  /** Why the tool was not measured (BCC unavailable), else null. */
  notMeasured: string | null;
  figures: Record<string, Figure>;
  checks: Record<string, string>;
  /** Per round: the tool's delivered fraction against the contrib script's, same round (not an exactness check). */
  comparedToContrib: string;
}

export interface ToolsResults {
  runs: ToolRunRecord[];
  tools: ToolResult[];
}

function usesBcc(tool: ToolDefinition): boolean {
  return tool.script.endsWith('.py');
}

/** Why BCC programs cannot run here (no python3-bpfcc, no kernel headers), or null. */
async function bccUnavailable(): Promise<string | null> {
  const probe = await runToEnd(
    ['/usr/bin/python3', '-I', '-S', '-c', "import sys; sys.path.append('/usr/lib/python3/dist-packages'); import bcc"],
    30_000,
  );
  if (probe.code !== 0) return `BCC is not importable by /usr/bin/python3 (${probe.stderr.trim().split('\n').pop() ?? ''})`;
  const headers = `/lib/modules/${release()}/build`;
  if (!existsSync(headers)) return `no kernel headers at ${headers} (on the project machines: bash scripts/setup-bcc-test-headers.sh)`;
  return null;
}

interface ConfigOutcome extends AttachOutcome {
  aggregates: AggregateComparison[];
  kernelFiredByTracepoint: Record<string, number> | null;
  warnings: string[];
}

async function runConfig(config: ToolConfig, spec: ToolBenchSpec, tool: ToolDefinition, ctx: BenchContext, round: number): Promise<ConfigOutcome> {
  const tracee = {
    binary: ctx.traceeCopy,
    scenario: spec.scenario,
    count: ctx.quick ? spec.calls.quick : spec.calls.full,
    summaryPath: join(ctx.workDir, `summary-${spec.tool}-${config}-${round}.json`),
  };
  const plain = (outcome: AttachOutcome): ConfigOutcome => ({ ...outcome, aggregates: [], kernelFiredByTracepoint: null, warnings: [] });
  switch (config) {
    case 'unattached':
      return plain(await runUnattached(tracee));
    case 'bare-count':
      return plain(await runBareCount(tracee, tool.tracepoints));
    case 'contrib-printf':
      return plain(await runContribPrintf(tracee, ctx.workDir, CONTRIB_SCRIPTS[spec.tool]));
    case 'tool': {
      const outcome = await runHelperSession({
        tool: tool.id, probesDir: ctx.probesDir, tracee, waitAttach: tool.tracepoints,
      });
      const fired = outcome.lastEvents.get('fired');
      const kernelFiredByTracepoint = fired?.event === 'fired' ? fired.counts : null;
      if (tool.mode === 'stream') {
        return { ...outcome, aggregates: kernelAggregates(tool, outcome.lastEvents, outcome.summary), kernelFiredByTracepoint };
      }
      // connectblock-benchmark: aggregated in the kernel, and every block over the threshold (by default
      // every block) streamed; its decoder reconciles streamed blocks against the kernel's `printed` count
      // itself and reports what is missing as `lost` events in the stream. (The decoder's stats do not
      // cover them: for an aggregating tool the session decoder's own reconciliation even cancels
      // bpftrace's reported losses with a negative `lost`; the stream's `lost` events sum to what is missing.)
      const delivered = tool.tracepoints.reduce((sum, tp) => sum + (outcome.deliveredByTracepoint?.[tp] ?? 0), 0);
      return {
        ...outcome,
        delivered,
        lostReported: outcome.lostEventsBySource.bpftrace ?? 0,
        lostReconciled: outcome.lostEventsBySource.reconciled ?? 0,
        aggregates: kernelAggregates(tool, outcome.lastEvents, outcome.summary),
        kernelFiredByTracepoint,
      };
    }
  }
}

/** The kernel-aggregated figures a tool reports, against the tracee's own counts. */
function kernelAggregates(tool: ToolDefinition, last: ReadonlyMap<string, NormalizedEvent>, summary: TraceeSummary): AggregateComparison[] {
  const fired = (tp: string): number => summary.fired[tp] ?? 0;
  if (tool.id === 'utxos') {
    const ops = last.get('utxocache:ops');
    const counts = ops?.event === 'utxocache:ops' ? ops.counts : null;
    return (['add', 'spent', 'uncache'] as const).map((op) => ({
      what: `@ops[${op}]`, expected: fired(`utxocache:${op}`), got: counts ? counts[op] : null,
    }));
  }
  if (tool.id === 'connectblock-benchmark') {
    const end = last.get('validation:connect_summary');
    const totals = end?.event === 'validation:connect_summary' ? end.totals : null;
    const blocks = fired('validation:block_connected');
    return [
      { what: '@totals[blocks]', expected: blocks, got: totals ? totals.blocks : null },
      // threshold 0 (the default): every block is printed
      { what: '@totals[printed]', expected: blocks, got: totals ? totals.printed : null },
    ];
  }
  return [];
}

function sumOf(counts: Readonly<Record<string, number>> | null | undefined, keys: readonly string[]): number {
  return keys.reduce((sum, key) => sum + (counts?.[key] ?? 0), 0);
}

function pick(counts: Readonly<Record<string, number>>, keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((key) => [key, counts[key] ?? 0]));
}

export async function runToolsBench(ctx: BenchContext): Promise<ToolsResults> {
  const tools = TOOL_SPECS.map((spec) => {
    const tool = findTool(spec.tool);
    if (!tool) throw new BenchFailure(`unknown tool ${spec.tool}`);
    if (!CONTRIB_SCRIPTS[spec.tool]) throw new BenchFailure(`no contrib-style script for ${spec.tool}`);
    return { spec, tool };
  });
  const notMeasured = new Map<string, string>();
  const bccProblem = await bccUnavailable();
  if (bccProblem) {
    for (const { tool } of tools) if (usesBcc(tool)) notMeasured.set(tool.id, bccProblem);
    ctx.log(`tools: BCC tools not measured: ${bccProblem}`);
  }
  const runs: ToolRunRecord[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const { spec, tool } of tools) {
      if (notMeasured.has(tool.id)) continue;
      const calls = ctx.quick ? spec.calls.quick : spec.calls.full;
      const roundRecords: ToolRunRecord[] = [];
      for (const config of TOOL_CONFIGS) {
        ctx.log(`tools: round ${round}/${ctx.runs}, ${tool.id} (${spec.scenario}, ${calls.toLocaleString('en-US')} calls), ${config}`);
        let outcome: ConfigOutcome;
        try {
          outcome = await runConfig(config, spec, tool, ctx, round);
        } catch (error) {
          // Only a BCC tool's own session failing (no bcc module, no kernel headers, …) leaves the tool
          // unmeasured; anything else is a benchmark failure.
          if (config !== 'tool' || !usesBcc(tool) || !(error instanceof BenchFailure)) throw error;
          notMeasured.set(tool.id, `BCC could not run: ${error.message}`);
          ctx.log(`tools: ${tool.id} not measured: ${error.message}`);
          break;
        }
        const record = toRecord(tool, round, config, outcome);
        ctx.log(`  ${describe(record)}`);
        roundRecords.push(record);
      }
      if (!notMeasured.has(tool.id)) runs.push(...roundRecords);
    }
  }
  return {
    runs,
    tools: tools.map(({ spec, tool }) => summarizeTool(spec, tool, ctx, runs.filter((r) => r.tool === tool.id), notMeasured.get(tool.id) ?? null)),
  };
}

function toRecord(tool: ToolDefinition, round: number, config: ToolConfig, outcome: ConfigOutcome): ToolRunRecord {
  const s = outcome.summary;
  const firedByTracepoint = pick(s.fired, tool.tracepoints);
  const fired = sumOf(firedByTracepoint, tool.tracepoints);
  return {
    tool: tool.id,
    round,
    config,
    calls: s.calls,
    elapsedS: s.elapsed_ns / 1e9,
    rate: callRate(s),
    fired,
    firedByTracepoint,
    firedRate: fired / (s.elapsed_ns / 1e9),
    delivered: outcome.delivered,
    deliveredByTracepoint: outcome.deliveredByTracepoint ?? null,
    lostReported: outcome.lostReported,
    lostReconciled: outcome.lostReconciled,
    kernelFiredByTracepoint: outcome.kernelFiredByTracepoint ? pick(outcome.kernelFiredByTracepoint, tool.tracepoints) : null,
    aggregates: outcome.aggregates,
    errors: outcome.errors,
    warnings: outcome.warnings,
  };
}

function lostOf(r: ToolRunRecord): number {
  return (r.lostReported ?? 0) + (r.lostReconciled ?? 0);
}

function describe(r: ToolRunRecord): string {
  const parts = [`${formatNumber(r.rate, 'events/s')} calls/s`, `fired ${r.fired}`];
  if (r.delivered !== null) parts.push(`delivered ${r.delivered}`);
  if (r.config === 'tool') parts.push(`lost ${lostOf(r)}`);
  for (const a of r.aggregates) parts.push(`${a.what} ${a.got ?? '—'}/${a.expected}`);
  if (r.errors.length > 0) parts.push(`errors: ${r.errors.join('; ')}`);
  return parts.join(', ');
}

/** The name of the check delivered + lost == fired (for connectblock-benchmark: of its streamed blocks). */
function accountingCheck(toolId: string, mode: ToolDefinition['mode']): string {
  return `${toolId}: ${mode === 'stream' ? '' : 'blocks '}delivered + lost == fired (tracee)`;
}

function passCount(records: readonly ToolRunRecord[], ok: (r: ToolRunRecord) => boolean): string {
  const passed = records.filter(ok).length;
  return `${passed === records.length && records.length > 0 ? 'PASS' : 'FAIL'} (${passed}/${records.length} runs)`;
}

function summarizeTool(spec: ToolBenchSpec, tool: ToolDefinition, ctx: BenchContext, runs: readonly ToolRunRecord[], notMeasured: string | null): ToolResult {
  const figures: Record<string, Figure> = {};
  const checks: Record<string, string> = {};
  const result: ToolResult = {
    tool: tool.id,
    front: usesBcc(tool) ? 'BCC' : 'bpftrace',
    mode: tool.mode,
    scenario: spec.scenario,
    calls: ctx.quick ? spec.calls.quick : spec.calls.full,
    tracepoints: tool.tracepoints,
    notMeasured,
    figures,
    checks,
    comparedToContrib: '',
  };
  if (runs.length === 0) return result;
  const of = (config: ToolConfig): ToolRunRecord[] => runs.filter((r) => r.config === config);
  const bareByRound = new Map(of('bare-count').map((r) => [r.round, r.rate]));
  for (const config of TOOL_CONFIGS) {
    const records = of(config);
    figures[`rate.${config}`] = figure(records.map((r) => r.rate), 'events/s');
    figures[`ratioToBare.${config}`] = figure(records.map((r) => r.rate / (bareByRound.get(r.round) ?? NaN)), 'ratio');
    if (config !== 'unattached') figures[`firedRate.${config}`] = figure(records.map((r) => r.firedRate), 'events/s');
  }

  const bare = of('bare-count');
  checks[`${tool.id}: bare @c == fired (tracee)`] = passCount(bare, (r) => r.delivered === r.fired);

  const session = of('tool');
  const percent = (part: number | null, whole: number): number => (whole > 0 ? (100 * (part ?? 0)) / whole : NaN);
  figures['tool.fired'] = figure(session.map((r) => r.fired), 'events');
  figures['tool.delivered'] = figure(session.map((r) => r.delivered ?? NaN), 'events');
  figures['tool.lost'] = figure(session.map(lostOf), 'events');
  figures['tool.lostReported'] = figure(session.map((r) => r.lostReported ?? NaN), 'events');
  figures['tool.lostReconciled'] = figure(session.map((r) => r.lostReconciled ?? NaN), 'events');
  figures['tool.deliveredPercent'] = figure(session.map((r) => percent(r.delivered, r.fired)), '%');
  for (const tp of tool.tracepoints) {
    figures[`tool.fired.${tp}`] = figure(session.map((r) => r.firedByTracepoint[tp] ?? 0), 'events');
    figures[`tool.delivered.${tp}`] = figure(session.map((r) => r.deliveredByTracepoint?.[tp] ?? NaN), 'events');
    figures[`tool.deliveredPercent.${tp}`] = figure(session.map((r) => percent(r.deliveredByTracepoint?.[tp] ?? null, r.firedByTracepoint[tp] ?? 0)), '%');
  }
  checks[accountingCheck(tool.id, tool.mode)] = passCount(session, (r) => r.delivered !== null && r.delivered + lostOf(r) === r.fired);
  checks[`${tool.id}: kernel @fired == fired (tracee), every tracepoint`] = passCount(session, (r) =>
    tool.tracepoints.every((tp) => r.kernelFiredByTracepoint !== null && r.kernelFiredByTracepoint[tp] === r.firedByTracepoint[tp]),
  );
  checks[`${tool.id}: no tracepoint delivered more than fired`] = passCount(session, (r) =>
    tool.tracepoints.every((tp) => (r.deliveredByTracepoint?.[tp] ?? 0) <= (r.firedByTracepoint[tp] ?? 0)),
  );
  if (session.some((r) => r.aggregates.length > 0)) {
    const names = session[0].aggregates.map((a) => a.what).join(', ');
    checks[`${tool.id}: kernel ${names} == tracee's counts`] = passCount(session, (r) => r.aggregates.length > 0 && r.aggregates.every((a) => a.got === a.expected));
  }
  checks[`${tool.id}: no session errors`] = passCount(session, (r) => r.errors.length === 0);

  const printf = of('contrib-printf');
  figures['contrib.lines'] = figure(printf.map((r) => r.delivered ?? NaN), 'events');
  figures['contrib.lost'] = figure(printf.map((r) => r.fired - (r.delivered ?? 0)), 'events');
  figures['contrib.lostReported'] = figure(printf.map((r) => r.lostReported ?? NaN), 'events');
  figures['contrib.deliveredPercent'] = figure(printf.map((r) => percent(r.delivered, r.fired)), '%');

  const contribByRound = new Map(printf.map((r) => [r.round, percent(r.delivered, r.fired)]));
  const atLeast = session.filter((r) => percent(r.delivered, r.fired) >= (contribByRound.get(r.round) ?? Infinity)).length;
  result.comparedToContrib = `delivered ≥ contrib printf in ${atLeast} of ${session.length} rounds`;
  return result;
}

// ------------------------------------------------------------------ table

function ratioNote(ratio: Figure): string {
  return `×${ratio.median >= 10 ? Math.round(ratio.median).toLocaleString('en-US') : ratio.median.toFixed(3)} of bare`;
}

export function toolsTableRows(results: ToolsResults): TableRow[] {
  const rows: TableRow[] = [];
  for (const t of results.tools) {
    const section = `1–2. ${t.tool} (${t.front}, ${t.mode}): tracee ${t.scenario}, ${t.calls.toLocaleString('en-US')} calls`;
    if (t.notMeasured !== null && t.figures['rate.tool'] === undefined) {
      rows.push({ section, name: 'not measured', figure: figure([], ''), note: t.notMeasured });
      continue;
    }
    const f = t.figures;
    for (const config of TOOL_CONFIGS) {
      const fired = f[`firedRate.${config}`];
      rows.push({
        section,
        name: `${CONFIG_LABELS[config]}: calls/s`,
        figure: f[`rate.${config}`],
        note: `${ratioNote(f[`ratioToBare.${config}`])}${fired ? `; ${formatNumber(fired.median, 'events/s')} tool events fired/s` : ''}`,
      });
    }
    rows.push({ section, name: 'fired (tracee, the tool\'s tracepoints)', figure: f['tool.fired'] });
    rows.push({ section, name: 'tool delivered (decoded)', figure: f['tool.delivered'] });
    rows.push({ section, name: 'tool lost (reported + reconciled)', figure: f['tool.lost'], note: `delivered + lost == fired: ${t.checks[accountingCheck(t.tool, t.mode)]}` });
    rows.push({ section, name: 'tool delivered fraction', figure: f['tool.deliveredPercent'], note: t.comparedToContrib });
    if (t.tracepoints.length > 1) {
      for (const tp of t.tracepoints) {
        rows.push({
          section,
          name: `  ${tp} delivered / fired`,
          figure: f[`tool.deliveredPercent.${tp}`],
          note: `${formatNumber(f[`tool.delivered.${tp}`].median, 'events')} of ${formatNumber(f[`tool.fired.${tp}`].median, 'events')}`,
        });
      }
    }
    const aggregate = Object.entries(t.checks).find(([name]) => name.includes("== tracee's counts"));
    if (aggregate) rows.push({ section, name: aggregate[0].replace(`${t.tool}: `, ''), figure: figure([], ''), note: aggregate[1] });
    rows.push({ section, name: 'contrib printf lines written', figure: f['contrib.lines'] });
    rows.push({ section, name: 'contrib printf delivered fraction', figure: f['contrib.deliveredPercent'] });
    rows.push({ section, name: 'contrib printf lost (fired − lines)', figure: f['contrib.lost'] });
    rows.push({ section, name: 'contrib printf lost, reported by bpftrace', figure: f['contrib.lostReported'] });
    if (t.notMeasured !== null) rows.push({ section, name: 'stopped early', figure: figure([], ''), note: t.notMeasured });
  }
  return rows;
}

/** Every check of every tool, for bench.ts's failure list and its printed checks. */
export function toolsChecks(results: ToolsResults): Record<string, string> {
  return Object.assign({}, ...results.tools.map((t) => t.checks)) as Record<string, string>;
}
