// `npm run bench [-- --runs N] [--quick] [--only attach,tools,several,reindex,extension,panels,discovery,bundle,soak,fuzz] [--profile]`
// Runs every measurement of docs/performance.md in one go, each several times, prints medians with their
// range and writes everything to bench-results/<ISO timestamp>.json. Needs root: it attaches real probes.

import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { attachTableRows, runAttachBench, type AttachResults } from './attachBench';
import type { BenchContext } from './benchContext';
import { BenchFailure } from './benchProcesses';
import { formatTable, type TableRow } from './benchStats';
import { bundleTableRows, runBundleBench, type BundleResults } from './bundleBench';
import { discoveryTableRows, runDiscoveryBench, type DiscoveryResults } from './discoveryBench';
import { extensionTableRows, runExtensionBench, type ExtensionResults } from './extensionBench';
import { panelTableRows, runPanelBench, type PanelResults } from './panelBench';
import { runVscodePanelBench, vscodePanelTableRows, type VscodePanelResults } from './vscodePanelBench';
import { BPFTRACE } from './probeRunners';
import { FULL_CHAIN, SMALL_CHAIN } from './reindexChain';
import {
  FUZZ_CASES_PER_TARGET,
  fuzzTableRows,
  runFuzzBench,
  runSoakBench,
  SOAK_DURATION_MS,
  soakTableRows,
  type FuzzBenchResults,
  type SoakBenchResults,
} from './soakFuzzBench';
import { reindexTableRows, runReindexBench, type ReindexResults } from './reindexBench';
import { runSeveralBench, severalTableRows, type SeveralResults } from './severalBench';
import { runToolsBench, toolsChecks, toolsTableRows, type ToolsResults } from './toolsBench';

const MEASUREMENTS = ['attach', 'tools', 'several', 'reindex', 'extension', 'panels', 'discovery', 'bundle', 'soak', 'fuzz'] as const;
type Measurement = (typeof MEASUREMENTS)[number];
const NEEDS_ROOT: ReadonlySet<Measurement> = new Set(['attach', 'tools', 'several', 'reindex', 'extension', 'soak']);

const HELP = `Usage: npm run bench -- [--runs N] [--quick] [--only NAME[,NAME...]] [--profile]

Benchmarks (as root; not part of the test suite):
  attach     tracee fire rate with nothing / bare bpftrace / p2p-traffic / p2p-monitor / contrib printf
             attached, and what each delivers (measurements 1 and 2)
  tools      1 and 2 for every other tool (p2p-connections, connectblock-benchmark, utxocache-flush, utxos,
             coin-selection, raw-p2p-msgs, mempool-monitor) on the tracee scenario that fires its
             tracepoints: nothing / bare bpftrace / the tool via the helper / a contrib-style printf script
  several    what several probes at once cost the node: the tracee's mixed \`all\` scenario with nothing,
             p2p-traffic, p2p-traffic + p2p-monitor, and six tools (those two, p2p-connections,
             connectblock-benchmark, utxos, mempool-monitor), each its own helper session; every event
             delivered or counted
  reindex    the real bitcoind (BITCOIND, else .real-node/master/bin/bitcoind) -reindex-chainstate of a
             regtest chain made once into .bench-cache/ (${FULL_CHAIN.blocks.toLocaleString('en-US')} blocks × ${FULL_CHAIN.txsPerBlock} transactions; ${SMALL_CHAIN.blocks} × ${SMALL_CHAIN.txsPerBlock}
             with --quick): nothing / each contrib/tracing script that applies (BITCOIN_SOURCE, else
             .real-node/master/bitcoin) / each of our tools that fires during a reindex, rounds interleaved
  extension  decode, decode + aggregate, recording read, heap after 1 M and 10 M events (3)
  panels     the P2P panel's webview bundle in headless Chromium: first paint from a snapshot and update
             cost with 1,000 peers and 100,000 messages; then, as root, every panel inside VS Code (the
             integration harness in bench mode): first paint from Open recording…, and the P2P panel's
             update cost in a live session with 1,000 peers and 100,000 messages (4)
  discovery  readStapsdtNotes vs readelf -n on a 400 MB ELF file (5)
  bundle     bundle sizes, require() + activate() time of dist/extension.js (6)
  soak       p2p-traffic at the tracee's top rate through the helper into the panel's model and a
             recording for ${SOAK_DURATION_MS.full / 60_000} min (${SOAK_DURATION_MS.quick / 1000} s with --quick), once: memory, event-loop delay,
             loss accounting; then the same inside VS Code (the integration harness in soak mode) with the
             P2P panel open: the extension host's memory and event-loop delay, the panel's render report
             round trip, loss accounting
  fuzz       long fuzz of every parser (${FUZZ_CASES_PER_TARGET.full.toLocaleString('en-US')} cases per target, ${FUZZ_CASES_PER_TARGET.quick.toLocaleString('en-US')} with --quick), once

Options:
  --runs N     repetitions of each measurement (default 3)
  --quick      smaller counts, for a smoke run
  --only LIST  comma-separated measurements to run (default: all)
  --profile    also profile decode + aggregate (node --cpu-prof) and list the hot spots
Results: a table on stdout, and bench-results/<timestamp>.json.
`;

interface BenchOptions {
  runs: number;
  quick: boolean;
  only: Measurement[];
  profile: boolean;
}

function parseOptions(argv: string[]): BenchOptions | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string' },
        quick: { type: 'boolean' },
        only: { type: 'string' },
        profile: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new BenchFailure(`${error instanceof Error ? error.message : String(error)} (see --help)`);
  }
  const { values } = parsed;
  if (values.help) return null;
  const runs = values.runs === undefined ? 3 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new BenchFailure('--runs must be a whole number from 1 to 50');
  let only: Measurement[] = [...MEASUREMENTS];
  if (values.only !== undefined) {
    const names = values.only.split(',').map((n) => n.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(MEASUREMENTS as readonly string[]).includes(n));
    if (unknown.length > 0 || names.length === 0) {
      throw new BenchFailure(`--only: unknown measurement ${unknown.join(', ') || '(none)'}; known: ${MEASUREMENTS.join(', ')}`);
    }
    only = MEASUREMENTS.filter((m) => names.includes(m));
  }
  return { runs, quick: values.quick ?? false, only, profile: values.profile ?? false };
}

function commandOutput(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unavailable';
  }
}

interface BenchResultsFile {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  options: BenchOptions;
  machine: { kernel: string; cpus: number; cpuModel: string; node: string; bpftrace: string; loadAverageStart: number[]; loadAverageEnd: number[] };
  counts: { attachEvents: number; extensionLines: number; heapEvents: { first: number; all: number }; discoveryBytes: number };
  attach?: AttachResults;
  tools?: ToolsResults;
  several?: SeveralResults;
  reindex?: ReindexResults;
  extension?: ExtensionResults;
  panels?: PanelResults;
  vscodePanels?: VscodePanelResults;
  discovery?: DiscoveryResults;
  bundle?: BundleResults;
  soak?: SoakBenchResults;
  fuzz?: FuzzBenchResults;
  failedChecks: string[];
}

/** The Bitcoin Core source tree whose contrib/tracing scripts the reindex measurement runs. */
function bitcoinSource(repoRoot: string): string {
  const source = process.env.BITCOIN_SOURCE ?? join(repoRoot, '.real-node', 'master', 'bitcoin');
  if (!existsSync(join(source, 'contrib', 'tracing', 'log_utxos.bt'))) {
    throw new BenchFailure(`${source} has no contrib/tracing/log_utxos.bt: set BITCOIN_SOURCE to the bitcoind's source tree, or run \`eval "$(bash scripts/unpack-real-node.sh)"\``);
  }
  return source;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const repoRoot = resolve(__dirname, '..', '..');
  if (options.only.some((m) => NEEDS_ROOT.has(m)) && process.geteuid?.() !== 0) {
    throw new BenchFailure(
      'the benchmark attaches real probes and must run as root (sudo npm run bench); ' +
        '`--only panels,discovery,bundle,fuzz` runs without root',
    );
  }
  const tracee = join(repoRoot, 'test', 'tracee', 'build', 'tracee-v29');
  const needsTracee = options.only.some((m) => m !== 'reindex'); // the reindex runs the real bitcoind
  if (needsTracee && !existsSync(tracee)) throw new BenchFailure(`${tracee} is missing: build it with \`npm run tracee\``);
  if (options.only.some((m) => NEEDS_ROOT.has(m)) && !existsSync(BPFTRACE)) {
    throw new BenchFailure(`${BPFTRACE} is missing: install bpftrace (apt install bpftrace)`);
  }

  const started = new Date();
  const stamp = started.toISOString().replace(/:/g, '-');
  const resultsDir = join(repoRoot, 'bench-results');
  await fs.mkdir(resultsDir, { recursive: true });
  const workDir = await fs.mkdtemp(join(tmpdir(), 'bitcoin-usdt-bench-'));
  const traceeCopy = join(workDir, 'bitcoind');
  if (needsTracee) {
    await fs.copyFile(tracee, traceeCopy);
    await fs.chmod(traceeCopy, 0o755);
  }
  const ctx: BenchContext = {
    runs: options.runs,
    quick: options.quick,
    profile: options.profile,
    repoRoot,
    probesDir: join(repoRoot, 'probes'),
    workDir,
    traceeCopy,
    resultsDir,
    stamp,
    attachEvents: options.quick ? 200_000 : 1_000_000,
    extensionLines: options.quick ? 200_000 : 1_000_000,
    heapEvents: options.quick ? { first: 200_000, all: 2_000_000 } : { first: 1_000_000, all: 10_000_000 },
    discoveryBytes: (options.quick ? 100 : 400) * 1024 * 1024,
    log: (message) => process.stderr.write(`[${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s] ${message}\n`),
  };
  const results: BenchResultsFile = {
    startedAt: started.toISOString(),
    finishedAt: '',
    durationS: 0,
    options,
    machine: {
      kernel: release(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      bpftrace: commandOutput([BPFTRACE, '--version']),
      loadAverageStart: loadavg(),
      loadAverageEnd: [],
    },
    counts: { attachEvents: ctx.attachEvents, extensionLines: ctx.extensionLines, heapEvents: ctx.heapEvents, discoveryBytes: ctx.discoveryBytes },
    failedChecks: [],
  };
  const rows: TableRow[] = [];
  try {
    for (const measurement of options.only) {
      switch (measurement) {
        case 'attach':
          results.attach = await runAttachBench(ctx);
          rows.push(...attachTableRows(results.attach));
          for (const [name, verdict] of Object.entries(results.attach.checks)) if (!verdict.startsWith('PASS')) results.failedChecks.push(`${name}: ${verdict}`);
          break;
        case 'tools':
          results.tools = await runToolsBench(ctx);
          rows.push(...toolsTableRows(results.tools));
          for (const [name, verdict] of Object.entries(toolsChecks(results.tools))) if (!verdict.startsWith('PASS')) results.failedChecks.push(`${name}: ${verdict}`);
          break;
        case 'several':
          results.several = await runSeveralBench(ctx);
          rows.push(...severalTableRows(results.several));
          for (const [name, verdict] of Object.entries(results.several.checks)) if (!verdict.startsWith('PASS')) results.failedChecks.push(`${name}: ${verdict}`);
          break;
        case 'reindex':
          results.reindex = await runReindexBench(ctx, bitcoinSource(repoRoot));
          rows.push(...reindexTableRows(results.reindex));
          results.failedChecks.push(...results.reindex.failures);
          break;
        case 'extension':
          results.extension = await runExtensionBench(ctx);
          rows.push(...extensionTableRows(results.extension));
          break;
        case 'panels': {
          results.panels = await runPanelBench(ctx);
          rows.push(...panelTableRows(results.panels));
          const vscodePanels = await runVscodePanelBench(ctx);
          if (vscodePanels) {
            results.vscodePanels = vscodePanels;
            rows.push(...vscodePanelTableRows(vscodePanels));
          }
          break;
        }
        case 'discovery':
          results.discovery = await runDiscoveryBench(ctx);
          rows.push(...discoveryTableRows(results.discovery));
          if (!results.discovery.sameNotesAsOriginal || !results.discovery.sameNotesAsReadelf) {
            results.failedChecks.push('discovery: readStapsdtNotes on the large file differs from the original or from readelf');
          }
          break;
        case 'bundle':
          results.bundle = await runBundleBench(ctx);
          rows.push(...bundleTableRows(results.bundle));
          break;
        case 'soak':
          results.soak = await runSoakBench(ctx);
          rows.push(...soakTableRows(results.soak));
          results.failedChecks.push(...results.soak.failures);
          break;
        case 'fuzz':
          results.fuzz = await runFuzzBench(ctx);
          rows.push(...fuzzTableRows(results.fuzz));
          if (results.fuzz.failure !== null) results.failedChecks.push(`fuzz: ${results.fuzz.failure}`);
          break;
      }
    }
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
  const finished = new Date();
  results.finishedAt = finished.toISOString();
  results.durationS = (finished.getTime() - started.getTime()) / 1000;
  results.machine.loadAverageEnd = loadavg();
  const resultsPath = join(resultsDir, `${stamp}.json`);
  await fs.writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);

  const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' ');
  process.stdout.write(
    `\nbitcoin-usdt benchmark — ${options.runs} run(s)${options.quick ? ', quick' : ''}, ${results.durationS.toFixed(0)} s; ` +
      `${results.machine.cpus} CPUs, kernel ${results.machine.kernel}, node ${process.version}, ${results.machine.bpftrace}; ` +
      `load ${load(results.machine.loadAverageStart)} → ${load(results.machine.loadAverageEnd)}\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n`);
  const checks = { ...results.attach?.checks, ...(results.tools ? toolsChecks(results.tools) : {}), ...results.several?.checks };
  if (Object.keys(checks).length > 0) {
    process.stdout.write('\nchecks:\n');
    for (const [name, verdict] of Object.entries(checks)) process.stdout.write(`  ${verdict.padEnd(16)} ${name}\n`);
  }
  for (const t of results.tools?.tools ?? []) {
    if (t.notMeasured !== null) process.stdout.write(`  not measured     ${t.tool}: ${t.notMeasured}\n`);
  }
  const hotSpots = results.extension?.hotSpots;
  if (hotSpots) {
    process.stdout.write(`\nhot spots of decode + aggregate (self time; profile: ${results.extension?.profilePath}):\n`);
    for (const h of hotSpots) process.stdout.write(`  ${h.selfPercent.toFixed(1).padStart(5)} %  ${h.location}\n`);
  }
  process.stdout.write(`\nresults: ${resultsPath}\n`);
  if (results.failedChecks.length > 0) {
    process.stderr.write(`bench: ${results.failedChecks.length} check(s) failed:\n${results.failedChecks.map((c) => `  ${c}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof BenchFailure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
