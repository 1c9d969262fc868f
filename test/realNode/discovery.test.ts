// Discovery on the real bitcoind builds: the ELF reader's notes equal `readelf -n` (every note, address, base,
// semaphore, argument string), the semaphores' file offsets equal readelf's LOAD mapping, the catalog recognises
// every tracepoint, and every tracepoint of the master build has exactly one TRACEPOINT( call site in the source
// tree (the old build's source is not shipped).

import { strict as assert } from 'node:assert';
import { matchCatalog } from '../../src/core/catalog/catalogMatch';
import { readStapsdtNotes } from '../../src/core/elf/stapsdtNotes';
import { findCallSites } from '../../src/core/source/callSiteFinder';
import { TRACEPOINT_CATALOG } from '../../src/core/catalog/tracepointCatalog';
import { assertMatchesReadelf, assertSemaphoreOffsets } from '../unit/helpers/readelfComparison';
import { bitcoinSource, masterBuild, oldBuild } from './realNodeEnv';
import { join } from 'node:path';

const CONNECTION_TRACEPOINTS = [
  'net:inbound_connection',
  'net:outbound_connection',
  'net:evicted_inbound_connection',
  'net:misbehaving_connection',
  'net:closed_connection',
];

describe('real node: discovery equals readelf -n', function () {
  this.timeout(60_000);

  it('master (BITCOIND): all 20 tracepoints, v29 semaphores, notes and semaphore offsets equal readelf', async () => {
    const { bitcoind } = masterBuild();
    const report = await readStapsdtNotes(bitcoind);
    await assertMatchesReadelf(bitcoind, report);
    assert.equal(await assertSemaphoreOffsets(bitcoind, report), report.notes.length, 'every note has a semaphore');
    const match = matchCatalog(report);
    assert.deepEqual(match.tracepoints.map((t) => t.id), TRACEPOINT_CATALOG.map((doc) => doc.id));
    assert.ok(match.tracepoints.every((t) => t.status === 'documented' && t.hasSemaphore && t.argumentCountMismatch === null));
    assert.deepEqual(match.missing, []);
    assert.equal(match.usesSemaphores, true);
  });

  it('older node (BITCOIND_OLD): 15 tracepoints without semaphores, no net:*_connection, notes equal readelf', async () => {
    const { bitcoind } = oldBuild();
    const report = await readStapsdtNotes(bitcoind);
    await assertMatchesReadelf(bitcoind, report);
    assert.equal(await assertSemaphoreOffsets(bitcoind, report), 0, 'no semaphores before v29');
    const match = matchCatalog(report);
    assert.equal(match.tracepoints.length, 15);
    assert.ok(match.tracepoints.every((t) => t.status === 'documented' && !t.hasSemaphore));
    assert.deepEqual(match.missing.map((doc) => doc.id).sort(), [...CONNECTION_TRACEPOINTS].sort());
    assert.equal(match.usesSemaphores, false);
  });

  it('master: every tracepoint of the binary has exactly one TRACEPOINT( call site in BITCOIN_SOURCE/src', async () => {
    const { bitcoind } = masterBuild();
    const ids = [...new Set((await readStapsdtNotes(bitcoind)).notes.map((note) => `${note.provider}:${note.name}`))];
    const index = await findCallSites([join(bitcoinSource(), 'src')]);
    for (const id of ids) {
      const sites = index.get(id) ?? [];
      assert.equal(sites.length, 1, `${id}: ${sites.length} call sites`);
      assert.equal(sites[0].macro, 'TRACEPOINT');
    }
    // src/test/ has TRACEPOINT(test, …) sites of its own, which are not in bitcoind.
    const outsideTests = [...index.entries()].filter(([, sites]) => sites.some((site) => !site.path.includes('/src/test/'))).map(([id]) => id);
    assert.deepEqual(outsideTests.sort(), [...ids].sort(), 'no call site (outside src/test) of a tracepoint the binary lacks');
  });
});
