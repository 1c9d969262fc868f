import { strict as assert } from 'node:assert';
import {
  SEMAPHORE_NOTE,
  describeArgumentCountMismatch,
  formatAddress,
  matchCatalog,
  noUsdtMessage,
} from '../../src/core/catalog/catalogMatch';
import {
  BPFTRACE_017_MAX_ARG_INDEX,
  CONNECTION_TYPES,
  CONTEXT_DOCS,
  FLUSH_MODE_NAMES,
  FLUSH_MODE_NAMES_BEFORE_V31,
  GENERAL_CAVEATS,
  NETWORK_NAMES,
  TRACEPOINT_CATALOG,
  findContextDoc,
  findTracepointDoc,
  findTracepointDocById,
  flushModeName,
  networkName,
  tracepointsOfContext,
  versionAtLeast,
} from '../../src/core/catalog/tracepointCatalog';
import type { ClientVersion } from '../../src/core/elf/clientVersion';
import { parseArgSpecs } from '../../src/core/elf/argSpec';
import { readStapsdtNotes, type StapsdtNote, type StapsdtReport } from '../../src/core/elf/stapsdtNotes';
import { readelfStapsdtNotes } from './helpers/readelfNotes';

// The field names of shared/docs/tracepoints.md, in argument order: the contract with recordings and exports.
const DOCUMENTED_FIELDS: Record<string, string[]> = {
  'net:inbound_message': ['peer_id', 'peer_addr', 'conn_type', 'msg_type', 'msg_size', 'msg'],
  'net:outbound_message': ['peer_id', 'peer_addr', 'conn_type', 'msg_type', 'msg_size', 'msg'],
  'net:inbound_connection': ['peer_id', 'peer_addr', 'conn_type', 'network', 'existing'],
  'net:outbound_connection': ['peer_id', 'peer_addr', 'conn_type', 'network', 'existing'],
  'net:evicted_inbound_connection': ['peer_id', 'peer_addr', 'conn_type', 'network', 'time_established'],
  'net:closed_connection': ['peer_id', 'peer_addr', 'conn_type', 'network', 'time_established'],
  'net:misbehaving_connection': ['peer_id', 'message'],
  'validation:block_connected': ['block_hash', 'height', 'transactions', 'inputs', 'sigops', 'duration_ns'],
  'utxocache:flush': ['duration_us', 'mode', 'coins_count', 'coins_mem_usage', 'is_flush_for_prune'],
  'utxocache:add': ['txid', 'index', 'height', 'value', 'is_coinbase'],
  'utxocache:spent': ['txid', 'index', 'height', 'value', 'is_coinbase'],
  'utxocache:uncache': ['txid', 'index', 'height', 'value', 'is_coinbase'],
  'mempool:added': ['txid', 'vsize', 'fee'],
  'mempool:removed': ['txid', 'reason', 'vsize', 'fee', 'entry_time'],
  'mempool:replaced': [
    'replaced_txid', 'replaced_vsize', 'replaced_fee', 'replaced_entry_time',
    'replacement_id', 'replacement_vsize', 'replacement_fee', 'replaced_by_transaction',
  ],
  'mempool:rejected': ['txid', 'reason'],
  'coin_selection:selected_coins': ['wallet_name', 'algo', 'target', 'waste', 'selected_value'],
  'coin_selection:normal_create_tx_internal': ['wallet_name', 'success', 'fee', 'change_pos'],
  'coin_selection:attempting_aps_create_tx': ['wallet_name'],
  'coin_selection:aps_create_tx_internal': ['wallet_name', 'use_aps', 'success', 'fee', 'change_pos'],
};

function note(provider: string, name: string, argumentSpecs: string, pc: bigint, semaphore: bigint | null = null): StapsdtNote {
  return {
    provider,
    name,
    address: pc,
    notePc: pc,
    base: 0x5000n,
    semaphore,
    semaphoreFileOffset: semaphore,
    arguments: argumentSpecs,
    args: parseArgSpecs(argumentSpecs, 'x86-64'),
  };
}

function report(notes: StapsdtNote[], hasNoteSection = true): StapsdtReport {
  return {
    path: '/tmp/bitcoind',
    elf: { elfClass: 64, endianness: 'little', machine: 'x86-64', type: 'DYN' },
    hasNoteSection,
    notes,
    fileSize: 1234,
  };
}

/** A note per documented tracepoint, with the documented number of arguments. */
function notesForWholeCatalog(semaphores: boolean): StapsdtNote[] {
  return TRACEPOINT_CATALOG.map((doc, position) =>
    note(
      doc.context,
      doc.event,
      doc.args.map((arg, index) => `${arg.cType.startsWith('int') ? '-' : ''}8@${index * 8}(%rsp)`).join(' '),
      0x1000n + BigInt(position) * 16n,
      semaphores ? 0x9000n + BigInt(position) * 2n : null,
    ),
  );
}

describe('tracepoint catalog', () => {
  it('documents exactly the tracepoints of tracepoints.md with their field names in order', () => {
    assert.deepEqual(
      TRACEPOINT_CATALOG.map((doc) => doc.id).sort(),
      Object.keys(DOCUMENTED_FIELDS).sort(),
    );
    for (const doc of TRACEPOINT_CATALOG) {
      assert.deepEqual(doc.args.map((arg) => arg.field), DOCUMENTED_FIELDS[doc.id], doc.id);
      assert.deepEqual(doc.args.map((arg) => arg.index), doc.args.map((_, index) => index), `${doc.id} indexes`);
      assert.equal(doc.id, `${doc.context}:${doc.event}`);
      assert.equal(doc.acceptedArgCounts[0], doc.args.length, `${doc.id} current arg count first`);
      assert.ok(doc.description.length > 40, `${doc.id} has a description`);
      for (const arg of doc.args) assert.ok(arg.meaning.length > 0, `${doc.id} arg ${arg.index} meaning`);
    }
  });

  it('has 20 tracepoints split over the five contexts as documented', () => {
    const counts = Object.fromEntries(CONTEXT_DOCS.map((context) => [context.context, tracepointsOfContext(context.context).length]));
    assert.deepEqual(counts, { net: 7, validation: 1, utxocache: 4, mempool: 4, coin_selection: 4 });
    assert.equal(TRACEPOINT_CATALOG.length, 20);
    assert.equal(new Set(TRACEPOINT_CATALOG.map((doc) => doc.id)).size, 20, 'ids are unique');
  });

  it('records the release that added each tracepoint', () => {
    const version = (id: string): string | undefined => findTracepointDocById(id)?.versionAdded;
    assert.equal(version('net:inbound_message'), 'v22');
    assert.equal(version('net:outbound_message'), 'v22');
    for (const event of ['inbound_connection', 'outbound_connection', 'evicted_inbound_connection', 'closed_connection', 'misbehaving_connection']) {
      assert.equal(version(`net:${event}`), 'v29', event);
    }
    assert.equal(version('validation:block_connected'), 'v22');
    for (const doc of tracepointsOfContext('utxocache')) assert.equal(doc.versionAdded, 'v23', doc.id);
    for (const doc of tracepointsOfContext('coin_selection')) assert.equal(doc.versionAdded, 'v24', doc.id);
    for (const doc of tracepointsOfContext('mempool')) assert.equal(doc.versionAdded, 'v25', doc.id);
  });

  it('gives C types, limits and units where the documentation has them', () => {
    const arg = (id: string, field: string) => {
      const found = findTracepointDocById(id)?.args.find((candidate) => candidate.field === field);
      assert.ok(found, `${id} ${field}`);
      return found;
    };
    assert.equal(arg('net:inbound_message', 'peer_id').cType, 'int64');
    assert.equal(arg('net:inbound_message', 'peer_addr').cType, 'char*');
    assert.equal(arg('net:inbound_message', 'peer_addr').maxLength, 68);
    assert.equal(arg('net:inbound_message', 'conn_type').maxLength, 20);
    assert.equal(arg('net:inbound_message', 'msg_type').maxLength, 20);
    assert.equal(arg('net:inbound_message', 'msg').cType, 'uchar*');
    assert.equal(arg('net:inbound_message', 'msg').rawToolOnly, true);
    assert.equal(arg('net:misbehaving_connection', 'message').maxLength, 128);
    assert.equal(arg('mempool:removed', 'reason').maxLength, 9);
    assert.equal(arg('mempool:rejected', 'reason').maxLength, 118);
    const hash = arg('validation:block_connected', 'block_hash');
    assert.equal(hash.kind, 'hash');
    assert.equal(hash.byteLength, 32);
    assert.match(hash.limits ?? '', /little-endian.*reversed/);
    assert.equal(arg('validation:block_connected', 'height').cType, 'int32');
    assert.match(arg('validation:block_connected', 'duration_ns').units ?? '', /nanoseconds/);
    assert.match(arg('utxocache:flush', 'duration_us').units ?? '', /microseconds/);
    assert.equal(arg('utxocache:flush', 'mode').valueNames, 'flushMode');
    assert.equal(arg('net:closed_connection', 'network').valueNames, 'network');
    assert.match(arg('net:closed_connection', 'time_established').units ?? '', /UNIX seconds/);
    assert.equal(arg('utxocache:add', 'value').units, 'satoshis');
    assert.equal(arg('utxocache:add', 'is_coinbase').cType, 'bool');
    assert.equal(arg('mempool:replaced', 'replaced_by_transaction').cType, 'bool');
    assert.equal(arg('coin_selection:normal_create_tx_internal', 'change_pos').cType, 'int32');
  });

  it('names networks, flush modes and connection types', () => {
    assert.deepEqual([...NETWORK_NAMES], ['unroutable', 'IPv4', 'IPv6', 'Onion', 'I2P', 'CJDNS']);
    // validation.h of master 31.99: NONE, IF_NEEDED, PERIODIC, FORCE_FLUSH, FORCE_SYNC (#33680, v31); before: 3 was ALWAYS.
    assert.deepEqual([...FLUSH_MODE_NAMES], ['NONE', 'IF_NEEDED', 'PERIODIC', 'FORCE_FLUSH', 'FORCE_SYNC']);
    assert.deepEqual([...FLUSH_MODE_NAMES_BEFORE_V31], ['NONE', 'IF_NEEDED', 'PERIODIC', 'ALWAYS']);
    assert.equal(networkName(3), 'Onion');
    assert.equal(networkName(9), 'unknown (9)');
    assert.equal(flushModeName(4), 'FORCE_SYNC');
    assert.equal(flushModeName(3), 'FORCE_FLUSH', 'unknown version: the current names');
    assert.equal(flushModeName(7), 'unknown (7)');
    const version = (major: number, minor: number): ClientVersion => ({ major, minor, patch: 0, rc: null, text: `v${major}.${minor}.0` });
    assert.equal(flushModeName(3, version(28, 99)), 'ALWAYS');
    assert.equal(flushModeName(3, version(30, 2)), 'ALWAYS');
    assert.equal(flushModeName(4, version(30, 2)), 'unknown (4)');
    assert.equal(flushModeName(3, version(30, 99)), 'FORCE_FLUSH', 'a development build just before v31: the current names');
    assert.equal(flushModeName(3, version(31, 0)), 'FORCE_FLUSH');
    assert.equal(flushModeName(4, version(31, 99)), 'FORCE_SYNC');
    assert.equal(versionAtLeast(version(28, 99), 'v29'), 'maybe');
    assert.equal(versionAtLeast(version(28, 2), 'v29'), false);
    assert.equal(versionAtLeast(version(29, 0), 'v29'), true);
    assert.deepEqual(
      CONNECTION_TYPES.map((type) => type.name),
      ['inbound', 'outbound-full-relay', 'manual', 'feeler', 'block-relay-only', 'addr-fetch', 'private-broadcast'],
    );
  });

  it('states the known caveats', () => {
    const replaced = findTracepointDoc('mempool', 'replaced');
    assert.ok(replaced);
    assert.ok(replaced.caveats.some((caveat) => /bpftrace 0\.17/.test(caveat) && /arg 6/.test(caveat)));
    const beyond = replaced.args.filter((arg) => arg.index > BPFTRACE_017_MAX_ARG_INDEX).map((arg) => arg.field);
    assert.deepEqual(beyond, ['replacement_fee', 'replaced_by_transaction']);
    assert.deepEqual([...replaced.acceptedArgCounts], [8, 7]);
    assert.ok(findTracepointDoc('validation', 'block_connected')?.caveats.some((caveat) => /nanoseconds/.test(caveat)));
    assert.ok(findTracepointDoc('utxocache', 'spent')?.caveats.some((caveat) => /"spend"/.test(caveat)));
    assert.ok(GENERAL_CAVEATS.some((caveat) => /semaphore/.test(caveat) && /USDT\(pid/.test(caveat)));
    assert.ok(GENERAL_CAVEATS.some((caveat) => /-DWITH_USDT=ON/.test(caveat)));
  });

  it('looks tracepoints and contexts up, and answers undefined for unknown ones', () => {
    assert.equal(findTracepointDoc('net', 'inbound_message')?.args.length, 6);
    assert.equal(findTracepointDoc('utxocache', 'spend'), undefined);
    assert.equal(findTracepointDoc('python', 'line'), undefined);
    assert.equal(findContextDoc('coin_selection')?.title, 'Wallet coin selection');
    assert.equal(findContextDoc('python'), undefined);
  });
});

describe('catalog matching', () => {
  it('reports every documented tracepoint of a v29-style binary, with semaphores', () => {
    const match = matchCatalog(report(notesForWholeCatalog(true)));
    assert.equal(match.tracepoints.length, 20);
    assert.ok(match.tracepoints.every((tracepoint) => tracepoint.status === 'documented' && tracepoint.hasSemaphore));
    assert.deepEqual(match.tracepoints.map((tracepoint) => tracepoint.id), TRACEPOINT_CATALOG.map((doc) => doc.id));
    assert.deepEqual(match.missing, []);
    assert.equal(match.usesSemaphores, true);
    assert.equal(match.isBitcoinCore, true);
    assert.equal(match.minimumVersion, 'v29');
    assert.equal(match.noUsdtMessage, null);
    assert.ok(match.tracepoints.every((tracepoint) => tracepoint.argumentCountMismatch === null));
  });

  it('groups call sites, marks undocumented tracepoints and lists the missing ones', () => {
    const match = matchCatalog(
      report([
        note('net', 'outbound_message', '-8@%r12 8@%rbx 8@%rdi 8@192(%rsp) 8@%rax 8@%rdx', 0x10n),
        note('net', 'inbound_message', '-8@%r12 8@%rbx 8@%rdi 8@%rsi 8@%rax 8@%rdx', 0x20n),
        note('net', 'outbound_message', '-8@%r13 8@%rbx 8@%rdi 8@200(%rsp) 8@%rax 8@%rdx', 0x30n),
        note('validation', 'block_connected', '8@%rax -4@%edx 8@%rcx -4@%esi 8@%rdi 8@%r8', 0x40n),
        note('myfork', 'custom_event', '-4@$5', 0x50n),
        note('net', 'zz_new_event', '8@%rax', 0x60n),
      ]),
    );
    assert.deepEqual(
      match.tracepoints.map((tracepoint) => [tracepoint.id, tracepoint.status, tracepoint.notes.length]),
      [
        ['net:inbound_message', 'documented', 1],
        ['net:outbound_message', 'documented', 2],
        ['validation:block_connected', 'documented', 1],
        ['myfork:custom_event', 'undocumented', 1],
        ['net:zz_new_event', 'undocumented', 1],
      ],
    );
    const outbound = match.tracepoints[1];
    assert.deepEqual(outbound.notes.map((entry) => entry.address), [0x10n, 0x30n]);
    assert.equal(outbound.doc?.id, 'net:outbound_message');
    assert.equal(match.tracepoints[3].doc, null);
    assert.equal(match.missing.length, 17);
    assert.ok(!match.missing.some((doc) => doc.id === 'net:inbound_message'));
    assert.ok(match.missing.some((doc) => doc.id === 'mempool:added'));
    assert.deepEqual([...match.missingContexts], ['utxocache', 'mempool', 'coin_selection']);
    assert.equal(match.usesSemaphores, false);
    assert.equal(match.minimumVersion, 'v22');
    assert.equal(match.noteCount, 6);
  });

  it('flags argument counts that differ from the catalog, and accepts older counts', () => {
    const replacedArgs = (count: number) => Array.from({ length: count }, (_, index) => `8@${index * 8}(%rsp)`).join(' ');
    const match = matchCatalog(
      report([
        note('mempool', 'replaced', replacedArgs(7), 0x10n),
        note('mempool', 'added', '8@%rax -4@%edx', 0x20n),
        note('mempool', 'added', '8@%rax -4@%edx -8@%rcx', 0x30n),
      ]),
    );
    const replaced = match.tracepoints.find((tracepoint) => tracepoint.id === 'mempool:replaced');
    const added = match.tracepoints.find((tracepoint) => tracepoint.id === 'mempool:added');
    assert.equal(replaced?.argumentCountMismatch, null, 'pre-package-RBF releases pass 7 arguments');
    assert.deepEqual(added?.argumentCountMismatch, { expected: [3], actual: [2, 3] });
    assert.ok(added);
    assert.equal(
      describeArgumentCountMismatch(added),
      'mempool:added: the binary passes 2/3 argument(s), the catalog documents 3',
    );
    assert.equal(match.minimumVersion, 'v25');
  });

  it('explains, with the build flag, when the binary has no USDT tracepoints', () => {
    const withoutSection = matchCatalog(report([], false));
    assert.equal(
      withoutSection.noUsdtMessage,
      '/tmp/bitcoind has no USDT tracepoints (no .note.stapsdt section). Rebuild Bitcoin Core with ' +
        '-DWITH_USDT=ON (CMake, v29+) or ./configure --enable-usdt (v22–v28).',
    );
    assert.equal(withoutSection.tracepoints.length, 0);
    assert.equal(withoutSection.missing.length, 20);
    assert.equal(withoutSection.isBitcoinCore, false);
    assert.deepEqual(withoutSection.missingContexts, []);
    const emptySection = matchCatalog(report([], true));
    assert.match(emptySection.noUsdtMessage ?? '', /section holds no notes.*-DWITH_USDT=ON/);
    assert.equal(noUsdtMessage('/x', false), withoutSection.noUsdtMessage?.replace('/tmp/bitcoind', '/x'));
  });

  it('matches a real binary read from disk (python3.11: semaphores, no Bitcoin Core tracepoints)', async () => {
    const binary = '/usr/bin/python3.11';
    const [match, expected] = await Promise.all([readStapsdtNotes(binary).then(matchCatalog), readelfStapsdtNotes(binary)]);
    assert.ok(expected.length > 0, 'readelf lists python notes');
    assert.equal(match.noteCount, expected.length);
    assert.deepEqual(
      match.tracepoints.map((tracepoint) => tracepoint.id),
      [...new Set(expected.map((entry) => `${entry.provider}:${entry.name}`))].sort(),
    );
    assert.ok(match.tracepoints.every((tracepoint) => tracepoint.status === 'undocumented'));
    assert.equal(match.usesSemaphores, expected.some((entry) => entry.semaphore !== 0n));
    assert.equal(match.isBitcoinCore, false);
    assert.equal(match.minimumVersion, null);
    assert.equal(match.missing.length, 20);
  });

  it('formats addresses and states the semaphore consequence', () => {
    assert.equal(formatAddress(0x42512an), '0x42512a');
    assert.equal(formatAddress(0n), '0x0');
    assert.match(SEMAPHORE_NOTE, /bpftrace raises/);
    assert.match(SEMAPHORE_NOTE, /PID/);
  });
});
