// The tracepoint interface of real builds against the corrected catalog, the Bitcoin Core version read from the
// binary, and the interface diff (`tracepoints --diff`) on the tracee build with a changed interface.
// Needs the real nodes (scripts/unpack-real-node.sh: BITCOIND, BITCOIND_OLD, default .real-node/) and the tracee.

import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BITCOIN_CORE_CONTEXTS, matchCatalog, readBitcoindNotes, type CatalogMatch } from '../../src/core/catalog/catalogMatch';
import { argShape } from '../../src/core/catalog/interfaceCheck';
import { diffInterfaces } from '../../src/core/catalog/interfaceDiff';
import { TRACEPOINT_CATALOG } from '../../src/core/catalog/tracepointCatalog';
import { FileByteSource } from '../../src/core/elf/elfByteSource';
import { readStapsdtNotesFromReader, type StapsdtReport } from '../../src/core/elf/stapsdtNotes';
import { bundleCli, runBundledCli, type CliResult } from './helpers/cliBundle';
import { CountingByteSource } from './helpers/countingByteSource';
import { makeTemporaryDirectory } from './helpers/readelfNotes';

const REPOSITORY = path.resolve(__dirname, '../..');
const BITCOIND = process.env.BITCOIND ?? path.join(REPOSITORY, '.real-node/master/bin/bitcoind');
const BITCOIND_OLD = process.env.BITCOIND_OLD ?? path.join(REPOSITORY, '.real-node/v28.99/bin/bitcoind');
const TRACEE = (name: string): string => path.join(REPOSITORY, 'test/tracee/build', name);
const PYTHON_WITH_USDT = '/usr/bin/python3.11';

function needFile(file: string, how: string): void {
  assert.ok(existsSync(file), `${file} is missing: ${how}`);
}

const needRealNodes = (): void => {
  const how = 'run `BITCOIN_CORE_SHARED=… bash scripts/unpack-real-node.sh` (or set BITCOIND and BITCOIND_OLD)';
  needFile(BITCOIND, how);
  needFile(BITCOIND_OLD, how);
};

/** The notes (and version, for a bitcoind) with the bytes read and the time it took. */
async function readCounting(file: string): Promise<{ report: StapsdtReport; bytesRead: number; ms: number }> {
  const source = await FileByteSource.open(file);
  try {
    const counting = new CountingByteSource(source);
    const started = process.hrtime.bigint();
    const report = await readStapsdtNotesFromReader(counting, file, { clientVersionFor: BITCOIN_CORE_CONTEXTS });
    return { report, bytesRead: counting.bytesRead, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  } finally {
    await source.close();
  }
}

function shapesOf(match: CatalogMatch, id: string): string[] {
  const tracepoint = match.tracepoints.find((entry) => entry.id === id);
  assert.ok(tracepoint, `${id} is in the binary`);
  assert.equal(tracepoint.notes.length, 1, `${id}: one call site`);
  return tracepoint.notes[0].args.map(argShape);
}

describe('Bitcoin Core version read from the binary (CLIENT_BUILD in .rodata)', () => {
  before(needRealNodes);

  it('reads v31.99.0 and v28.99.0 with their commits from the real nodes, scanning only .rodata', async () => {
    for (const [file, text] of [
      [BITCOIND, 'v31.99.0-gb88bffe550a3'],
      [BITCOIND_OLD, 'v28.99.0-ge4fb97a5127e'],
    ] as const) {
      const { report, bytesRead, ms } = await readCounting(file);
      const version = report.clientVersion;
      assert.ok(version, `${file}: a version`);
      assert.ok(version.text.startsWith(text), `${file}: ${version.text}`);
      assert.equal(version.minor, 99);
      assert.equal(version.patch, 0);
      // .rodata is 3.4 MB (master) and 1.9 MB (28.99) of 13.8 and 12.1 MB; headers and notes are kilobytes.
      assert.ok(bytesRead < 4 * 1024 * 1024, `${file}: read ${bytesRead} bytes`);
      assert.ok(bytesRead < report.fileSize / 3, `${file}: read ${bytesRead} of ${report.fileSize} bytes`);
      console.log(`      ${path.basename(path.dirname(path.dirname(file)))}: ${version.text} in ${ms.toFixed(1)} ms, ${(bytesRead / 1e6).toFixed(2)} MB read`);
    }
  });

  it('has no version for the tracee, and does not scan a binary without Bitcoin Core tracepoints', async () => {
    needFile(TRACEE('tracee-v29'), 'run `make -C test/tracee` first');
    assert.equal((await readCounting(TRACEE('tracee-v29'))).report.clientVersion, null);
    const python = await readCounting(PYTHON_WITH_USDT);
    assert.ok(python.report.notes.length > 0, 'python has USDT notes');
    assert.equal(python.report.clientVersion, null);
    assert.ok(python.bytesRead < 256 * 1024, `python: read ${python.bytesRead} bytes (no .rodata scan)`);
  });
});

describe('the real nodes\' tracepoint interface equals the corrected catalog', () => {
  before(needRealNodes);

  it('master 31.99: all 20 tracepoints, every argument count, size and sign as documented for its version', async () => {
    const match = matchCatalog(await readBitcoindNotes(BITCOIND));
    assert.equal(match.tracepoints.length, 20);
    assert.equal(match.missing.length, 0);
    assert.deepEqual(match.tracepoints.filter((t) => t.interfaceMismatch).map((t) => [t.id, t.interfaceMismatch]), []);
    // The facts the catalog got wrong before (doc/tracing.md still says uint64 for all three):
    assert.deepEqual(shapesOf(match, 'validation:block_connected'), ['8', '-4', '8', '-4', '-8', '-8'], 'sigops and duration signed 64-bit');
    assert.deepEqual(shapesOf(match, 'net:closed_connection'), ['-8', '8', '8', '4', '-8'], 'time_established signed');
    assert.deepEqual(shapesOf(match, 'net:evicted_inbound_connection'), ['-8', '8', '8', '4', '-8']);
    assert.deepEqual(shapesOf(match, 'mempool:replaced'), ['8', '-4', '-8', '8', '8', '-4', '-8', '1']);
    assert.deepEqual(shapesOf(match, 'utxocache:flush'), ['-8', '4', '8', '8', '1']);
  });

  it('28.99: its 15 tracepoints as documented for a pre-v29 build (7-argument mempool:replaced, unsigned duration)', async () => {
    const match = matchCatalog(await readBitcoindNotes(BITCOIND_OLD));
    assert.equal(match.tracepoints.length, 15);
    assert.deepEqual(match.missing.map((doc) => doc.id), TRACEPOINT_CATALOG.filter((doc) => doc.versionAdded === 'v29').map((doc) => doc.id));
    assert.deepEqual(match.tracepoints.filter((t) => t.interfaceMismatch).map((t) => [t.id, t.interfaceMismatch]), []);
    assert.deepEqual(shapesOf(match, 'mempool:replaced'), ['8', '-4', '-8', '8', '8', '-4', '-8']);
    assert.deepEqual(shapesOf(match, 'validation:block_connected'), ['8', '-4', '8', '-4', '-8', '8']);
  });

  it('marks what differs when the version says otherwise: 28.99\'s notes read as a v29 build', async () => {
    const report = await readBitcoindNotes(BITCOIND_OLD);
    assert.ok(report.clientVersion);
    const match = matchCatalog({ ...report, clientVersion: { ...report.clientVersion, major: 29, minor: 0 } });
    const mismatched = Object.fromEntries(match.tracepoints.filter((t) => t.interfaceMismatch).map((t) => [t.id, t.interfaceMismatch]));
    assert.deepEqual(mismatched, {
      'mempool:replaced': { count: { expected: [8], actual: [7] }, args: [] },
      'validation:block_connected': { count: null, args: [{ index: 5, field: 'duration_ns', expected: ['-8'], actual: ['8'] }] },
    });
  });

  it('the tracee build with a changed interface: the changed argument is marked, the removed tracepoint missing', async () => {
    needFile(TRACEE('tracee-v29-changed'), 'run `make -C test/tracee` first');
    const match = matchCatalog(await readBitcoindNotes(TRACEE('tracee-v29-changed')));
    assert.deepEqual(match.missing.map((doc) => doc.id), ['coin_selection:attempting_aps_create_tx']);
    assert.deepEqual(
      match.tracepoints.filter((t) => t.interfaceMismatch).map((t) => [t.id, t.interfaceMismatch]),
      [['mempool:added', { count: null, args: [{ index: 1, field: 'vsize', expected: ['-4'], actual: ['-8'] }] }]],
    );
    const tracee = matchCatalog(await readBitcoindNotes(TRACEE('tracee-v29')));
    assert.deepEqual(tracee.tracepoints.filter((t) => t.interfaceMismatch).map((t) => t.id), [], 'the v29 tracee passes what real builds pass');
  });
});

describe('bitcoin-usdt tracepoints --diff A B', function () {
  this.timeout(60_000);
  let temporary = '';
  let cliPath = '';

  before(async () => {
    needFile(TRACEE('tracee-v29-changed'), 'run `make -C test/tracee` first');
    temporary = await makeTemporaryDirectory('bitcoin-usdt-diff-');
    cliPath = await bundleCli(temporary);
  });

  after(async () => {
    if (temporary) await fs.rm(temporary, { recursive: true, force: true });
  });

  const runCli = (args: string[]): Promise<CliResult> => runBundledCli(cliPath, args);

  it('reports exactly the changed argument and the removed tracepoint, exit code 3', async () => {
    const json = await runCli(['tracepoints', '--diff', '--json', TRACEE('tracee-v29'), TRACEE('tracee-v29-changed')]);
    assert.equal(json.code, 3, json.stderr);
    const diff = JSON.parse(json.stdout) as {
      interface_changed: boolean;
      added: unknown[];
      removed: { id: string; arguments: string[][] }[];
      changed: { id: string; differences: string[] }[];
      unchanged: string[];
    };
    assert.equal(diff.interface_changed, true);
    assert.deepEqual(diff.added, []);
    assert.deepEqual(diff.removed.map((entry) => [entry.id, entry.arguments]), [['coin_selection:attempting_aps_create_tx', [['8']]]]);
    assert.deepEqual(diff.changed.map((entry) => [entry.id, entry.differences]), [['mempool:added', ['arg 1 (vsize): signed 4 bytes → signed 8 bytes']]]);
    assert.equal(diff.unchanged.length, 21); // 18 of Bitcoin Core's and the tracee's own 3

    const text = await runCli(['tracepoints', '--diff', TRACEE('tracee-v29'), TRACEE('tracee-v29-changed')]);
    assert.equal(text.code, 3);
    assert.match(text.stdout, /\*\*The interface changed\*\*: 0 added, 1 removed, 1 changed, 21 unchanged\./);
    assert.match(text.stdout, /## Removed \(in A, not in B\)\n\n- `coin_selection:attempting_aps_create_tx` — arguments `8`\n/);
    assert.match(text.stdout, /## Changed\n\n- `mempool:added`\n {2}- arg 1 \(vsize\): signed 4 bytes → signed 8 bytes\n/);
  });

  it('exit code 0 for the same interface (a stripped copy), 2 for bad usage, 1 for a binary without USDT', async () => {
    const same = await runCli(['tracepoints', '--diff', TRACEE('tracee-v29'), TRACEE('tracee-v29-stripped')]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /\*\*Same interface\*\*: 23 tracepoint\(s\)/);
    const usage = await runCli(['tracepoints', '--diff', TRACEE('tracee-v29')]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected <binary A> <binary B>, got 1 argument/);
    const noUsdt = await runCli(['tracepoints', '--diff', TRACEE('tracee-v29'), '/usr/bin/bash']);
    assert.equal(noUsdt.code, 1);
    assert.match(noUsdt.stderr, /\/usr\/bin\/bash has no USDT tracepoints/);
  });

  it('28.99 → master 31.99: the connection tracepoints added, replaced\'s 8th argument and the signed duration', async () => {
    needRealNodes();
    const diff = diffInterfaces(await readBitcoindNotes(BITCOIND_OLD), await readBitcoindNotes(BITCOIND));
    assert.deepEqual(diff.added.map((entry) => entry.id), TRACEPOINT_CATALOG.filter((doc) => doc.versionAdded === 'v29').map((doc) => doc.id).sort());
    assert.deepEqual(diff.removed, []);
    const changes = Object.fromEntries(diff.changed.map((change) => [change.id, change.differences]));
    assert.deepEqual(changes['mempool:replaced'], ['argument count 7 → 8', 'arg 7 (replaced_by_transaction) added: unsigned 1 byte', 'now gated by a semaphore (BCC needs a PID)']);
    assert.deepEqual(changes['validation:block_connected'], ['arg 5 (duration_ns): unsigned 8 bytes → signed 8 bytes', 'now gated by a semaphore (BCC needs a PID)']);
    assert.equal(diff.a.version, 'v28.99.0 (development build after v28)');
    assert.equal(diff.b.version, 'v31.99.0 (development build after v31)');
    const table = await runCli(['tracepoints', BITCOIND]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /; Bitcoin Core v31\.99\.0 \(development build after v31\)\n/);
    assert.doesNotMatch(table.stdout, /warning:/);
  });
});
