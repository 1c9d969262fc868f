// Measurements 1 and 2: what attaching costs the traced program, and what reaches the reader.
// Every configuration runs once per round, rounds repeat, so each ratio compares runs of the same round.

import { join } from 'node:path';
import type { PeerTotals } from '../../src/core/events/eventTypes';
import { figure, type Figure, type TableRow } from './benchStats';
import { callRate, totalFired, type TraceeSummary } from './benchProcesses';
import { runBareCount, runContribPrintf, runHelperSession, runUnattached, type AttachOutcome } from './probeRunners';
import type { BenchContext } from './benchContext';

export const ATTACH_CONFIGS = ['unattached', 'bare-count', 'p2p-traffic', 'p2p-monitor', 'contrib-printf'] as const;
export type AttachConfig = (typeof ATTACH_CONFIGS)[number];

const CONFIG_LABELS: Record<AttachConfig, string> = {
  unattached: 'nothing attached (semaphore off)',
  'bare-count': 'bare bpftrace @c = count()',
  'p2p-traffic': 'p2p-traffic via helper → decoder',
  'p2p-monitor': 'p2p-monitor via helper → decoder',
  'contrib-printf': 'contrib-style printf → file',
};

export interface AttachRunRecord {
  round: number;
  config: AttachConfig;
  events: number;
  elapsedS: number;
  rate: number;
  fired: number;
  delivered: number | null;
  lostReported: number | null;
  lostReconciled: number | null;
  kernelFired: number | null;
  /** p2p-monitor: peers whose four kernel counters equal the tracee's own count. */
  peersExact?: number;
  peersTotal?: number;
  /** p2p-monitor: messages in the kernel's per-peer totals. */
  peerTotalMessages?: number;
  errors: string[];
}

export interface AttachResults {
  events: number;
  runs: AttachRunRecord[];
  figures: Record<string, Figure>;
  checks: Record<string, string>;
}

async function runConfig(config: AttachConfig, ctx: BenchContext, round: number): Promise<AttachOutcome> {
  const tracee = {
    binary: ctx.traceeCopy,
    scenario: 'p2p-flood',
    count: ctx.attachEvents,
    summaryPath: join(ctx.workDir, `summary-${config}-${round}.json`),
  };
  switch (config) {
    case 'unattached':
      return runUnattached(tracee);
    case 'bare-count':
      return runBareCount(tracee);
    case 'p2p-traffic':
    case 'p2p-monitor':
      return runHelperSession({ tool: config, probesDir: ctx.probesDir, tracee, waitAttach: ['net:inbound_message'] });
    case 'contrib-printf':
      return runContribPrintf(tracee, ctx.workDir);
  }
}

function comparePeers(totals: readonly PeerTotals[] | null, summary: TraceeSummary): { exact: number; total: number; messages: number } {
  const expected = Object.entries(summary.peers);
  const byId = new Map((totals ?? []).map((p) => [String(p.peer_id), p]));
  let exact = 0;
  let messages = 0;
  for (const p of totals ?? []) messages += p.msgs_in + p.msgs_out;
  for (const [id, want] of expected) {
    const got = byId.get(id);
    if (
      got && got.msgs_in === want.msgs_in && got.bytes_in === want.bytes_in &&
      got.msgs_out === want.msgs_out && got.bytes_out === want.bytes_out
    ) exact++;
  }
  return { exact, total: Math.max(expected.length, byId.size), messages };
}

export async function runAttachBench(ctx: BenchContext): Promise<AttachResults> {
  const runs: AttachRunRecord[] = [];
  for (let round = 1; round <= ctx.runs; round++) {
    for (const config of ATTACH_CONFIGS) {
      ctx.log(`attach: round ${round}/${ctx.runs}, ${config} (${ctx.attachEvents.toLocaleString('en-US')} events)`);
      const outcome = await runConfig(config, ctx, round);
      const s = outcome.summary;
      const record: AttachRunRecord = {
        round,
        config,
        events: s.calls,
        elapsedS: s.elapsed_ns / 1e9,
        rate: callRate(s),
        fired: totalFired(s),
        delivered: outcome.delivered,
        lostReported: outcome.lostReported,
        lostReconciled: outcome.lostReconciled,
        kernelFired: outcome.kernelFired,
        errors: outcome.errors,
      };
      if (config === 'p2p-monitor') {
        const peers = comparePeers(outcome.peerTotals, s);
        record.peersExact = peers.exact;
        record.peersTotal = peers.total;
        record.peerTotalMessages = peers.messages;
      }
      ctx.log(
        `  ${Math.round(record.rate).toLocaleString('en-US')} events/s, fired ${record.fired}` +
          (record.delivered !== null ? `, delivered ${record.delivered}` : '') +
          (record.lostReported !== null ? `, lost ${(record.lostReported ?? 0) + (record.lostReconciled ?? 0)}` : '') +
          (record.peersTotal !== undefined ? `, peers exact ${record.peersExact}/${record.peersTotal}` : ''),
      );
      runs.push(record);
    }
  }
  return { events: ctx.attachEvents, runs, ...summarize(runs) };
}

function summarize(runs: readonly AttachRunRecord[]): { figures: Record<string, Figure>; checks: Record<string, string> } {
  const figures: Record<string, Figure> = {};
  const checks: Record<string, string> = {};
  const of = (config: AttachConfig): AttachRunRecord[] => runs.filter((r) => r.config === config);
  const bareByRound = new Map(of('bare-count').map((r) => [r.round, r.rate]));

  for (const config of ATTACH_CONFIGS) {
    const records = of(config);
    figures[`rate.${config}`] = figure(records.map((r) => r.rate), 'events/s');
    figures[`ratioToBare.${config}`] = figure(records.map((r) => r.rate / (bareByRound.get(r.round) ?? NaN)), 'ratio');
  }

  const bare = of('bare-count');
  checks['bare-count: @c equals fired'] = passCount(bare, (r) => r.delivered === r.fired);

  const traffic = of('p2p-traffic');
  const lost = (r: AttachRunRecord): number => (r.lostReported ?? 0) + (r.lostReconciled ?? 0);
  figures['delivery.p2p-traffic.fired'] = figure(traffic.map((r) => r.fired), 'events');
  figures['delivery.p2p-traffic.delivered'] = figure(traffic.map((r) => r.delivered ?? NaN), 'events');
  figures['delivery.p2p-traffic.lostReported'] = figure(traffic.map((r) => r.lostReported ?? NaN), 'events');
  figures['delivery.p2p-traffic.lostReconciled'] = figure(traffic.map((r) => r.lostReconciled ?? NaN), 'events');
  figures['delivery.p2p-traffic.deliveredPercent'] = figure(traffic.map((r) => (100 * (r.delivered ?? 0)) / r.fired), '%');
  checks['p2p-traffic: delivered + lost == fired (tracee)'] = passCount(traffic, (r) => (r.delivered ?? 0) + lost(r) === r.fired);
  checks['p2p-traffic: kernel @fired == fired (tracee)'] = passCount(traffic, (r) => r.kernelFired === r.fired);
  checks['p2p-traffic: no session errors'] = passCount(traffic, (r) => r.errors.length === 0);

  const printf = of('contrib-printf');
  figures['delivery.contrib-printf.lines'] = figure(printf.map((r) => r.delivered ?? NaN), 'events');
  figures['delivery.contrib-printf.lost'] = figure(printf.map((r) => r.fired - (r.delivered ?? 0)), 'events');
  figures['delivery.contrib-printf.lostReported'] = figure(printf.map((r) => r.lostReported ?? NaN), 'events');
  figures['delivery.contrib-printf.unreported'] = figure(printf.map((r) => r.fired - (r.delivered ?? 0) - (r.lostReported ?? 0)), 'events');
  figures['delivery.contrib-printf.deliveredPercent'] = figure(printf.map((r) => (100 * (r.delivered ?? 0)) / r.fired), '%');

  const monitor = of('p2p-monitor');
  figures['exactness.p2p-monitor.peersPercent'] = figure(monitor.map((r) => (100 * (r.peersExact ?? 0)) / (r.peersTotal || NaN)), '%');
  figures['exactness.p2p-monitor.messagesPercent'] = figure(monitor.map((r) => (100 * (r.peerTotalMessages ?? 0)) / r.fired), '%');
  checks['p2p-monitor: every peer total == tracee summary'] = passCount(monitor, (r) => r.peersTotal !== undefined && r.peersTotal > 0 && r.peersExact === r.peersTotal);
  checks['p2p-monitor: kernel @fired == fired (tracee)'] = passCount(monitor, (r) => r.kernelFired === r.fired);
  return { figures, checks };
}

function passCount(records: readonly AttachRunRecord[], ok: (r: AttachRunRecord) => boolean): string {
  const passed = records.filter(ok).length;
  return `${passed === records.length ? 'PASS' : 'FAIL'} (${passed}/${records.length} runs)`;
}

export function attachTableRows(results: AttachResults): TableRow[] {
  const rows: TableRow[] = [];
  const f = results.figures;
  const events = results.events.toLocaleString('en-US');
  for (const config of ATTACH_CONFIGS) {
    const ratio = f[`ratioToBare.${config}`];
    rows.push({
      section: `1. attach cost: tracee p2p-flood fire rate, ${events} events`,
      name: CONFIG_LABELS[config],
      figure: f[`rate.${config}`],
      note: `×${ratio.median >= 10 ? Math.round(ratio.median).toLocaleString('en-US') : ratio.median.toFixed(3)} of bare`,
    });
  }
  const delivery = `2. delivery at the tracee's top rate`;
  rows.push({ section: delivery, name: 'p2p-traffic fired (tracee)', figure: f['delivery.p2p-traffic.fired'] });
  rows.push({ section: delivery, name: 'p2p-traffic delivered (decoded)', figure: f['delivery.p2p-traffic.delivered'] });
  rows.push({ section: delivery, name: 'p2p-traffic lost, reported by bpftrace', figure: f['delivery.p2p-traffic.lostReported'] });
  rows.push({ section: delivery, name: 'p2p-traffic lost, reconciled (kernel count)', figure: f['delivery.p2p-traffic.lostReconciled'] });
  rows.push({
    section: delivery, name: 'p2p-traffic delivered fraction', figure: f['delivery.p2p-traffic.deliveredPercent'],
    note: `delivered+lost==fired: ${results.checks['p2p-traffic: delivered + lost == fired (tracee)']}`,
  });
  rows.push({ section: delivery, name: 'contrib printf lines written', figure: f['delivery.contrib-printf.lines'] });
  rows.push({ section: delivery, name: 'contrib printf lost (fired − lines)', figure: f['delivery.contrib-printf.lost'] });
  rows.push({ section: delivery, name: 'contrib printf lost, reported by bpftrace', figure: f['delivery.contrib-printf.lostReported'] });
  rows.push({ section: delivery, name: 'contrib printf lost, never reported', figure: f['delivery.contrib-printf.unreported'] });
  rows.push({ section: delivery, name: 'contrib printf delivered fraction', figure: f['delivery.contrib-printf.deliveredPercent'] });
  rows.push({
    section: delivery, name: 'p2p-monitor peers exact vs tracee', figure: f['exactness.p2p-monitor.peersPercent'],
    note: results.checks['p2p-monitor: every peer total == tracee summary'],
  });
  rows.push({ section: delivery, name: 'p2p-monitor messages counted / fired', figure: f['exactness.p2p-monitor.messagesPercent'] });
  return rows;
}
