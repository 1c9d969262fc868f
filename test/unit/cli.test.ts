import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { matchCatalog } from '../../src/core/catalog/catalogMatch';
import { TRACEPOINT_CATALOG } from '../../src/core/catalog/tracepointCatalog';
import { parseArgSpecs } from '../../src/core/elf/argSpec';
import type { StapsdtNote } from '../../src/core/elf/stapsdtNotes';
import { indexCallSites } from '../../src/core/source/callSiteFinder';
import { formatTracepointTable, tracepointNotesJson, type TracepointNoteJson } from '../../src/cli/tracepointsCommand';
import { bundleCli, runBundledCli, type CliResult } from './helpers/cliBundle';
import { makeTemporaryDirectory, readelfSections, readelfStapsdtNotes } from './helpers/readelfNotes';

const REPOSITORY = path.resolve(__dirname, '../..');
const PYTHON_WITH_USDT = '/usr/bin/python3.11';
const TRACEE_V29 = path.join(REPOSITORY, 'test/tracee/build/tracee-v29');
const TRACEE_LEGACY = path.join(REPOSITORY, 'test/tracee/build/tracee-legacy');
const FIXTURE_SOURCES_V29 = path.join(REPOSITORY, 'test/fixtures/sources/v29');

let cliPath = '';

const runCli = (args: string[]): Promise<CliResult> => runBundledCli(cliPath, args);

/** One line on stderr, prefixed with the program name, no stack trace, nothing on stdout. */
function assertOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^bitcoin-usdt: [^\n]+\n$/, `one line on stderr: ${JSON.stringify(result.stderr)}`);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack frames');
  assert.match(result.stderr, pattern);
}

/** What readelf says the notes are, with the address shifted like the .stapsdt.base correction does. */
async function expectedNotes(binary: string): Promise<string[]> {
  const [notes, sections] = await Promise.all([readelfStapsdtNotes(binary), readelfSections(binary)]);
  const baseSection = sections.find((section) => section.name === '.stapsdt.base');
  return notes
    .map((note) => {
      const shift = baseSection ? baseSection.address - note.base : 0n;
      const semaphore = note.semaphore === 0n ? null : `0x${(note.semaphore + shift).toString(16)}`;
      return JSON.stringify([note.provider, note.name, `0x${(note.location + shift).toString(16)}`, semaphore, note.arguments]);
    })
    .sort();
}

function actualNotes(json: TracepointNoteJson[]): string[] {
  return json.map((note) => JSON.stringify([note.provider, note.name, note.address, note.semaphore, note.arguments])).sort();
}

function requireTracee(binary: string): void {
  if (!existsSync(binary)) {
    assert.fail(`${binary} is missing: build the test tracee first with \`make -C test/tracee\` (or \`npm run tracee\`)`);
  }
}

describe('command line (node dist/cli.js)', function () {
  this.timeout(60_000);
  let temporary = '';

  before(async () => {
    temporary = await makeTemporaryDirectory('bitcoin-usdt-cli-');
    cliPath = await bundleCli(temporary);
  });

  after(async () => {
    if (temporary) await fs.rm(temporary, { recursive: true, force: true });
  });

  describe('tracepoints --json', () => {
    it('reports every note of python3.11 as readelf -n does (provider, name, address, semaphore, arguments)', async () => {
      const result = await runCli(['tracepoints', '--json', PYTHON_WITH_USDT]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const json = JSON.parse(result.stdout) as TracepointNoteJson[];
      const expected = await expectedNotes(PYTHON_WITH_USDT);
      assert.ok(expected.length >= 8, 'python3.11 has USDT notes');
      assert.deepEqual(actualNotes(json), expected);
      for (const note of json) {
        assert.equal(note.documented, false);
        assert.equal(note.fields, null);
        assert.match(note.semaphore_file_offset ?? '', /^0x[0-9a-f]+$/);
        assert.equal(note.args.length, note.arguments === '' ? 0 : note.arguments.split(' ').length);
        assert.equal(note.call_sites, undefined, 'call_sites only with --source');
      }
    });

    it('marks every tracepoint of the v29 tracee documented, with the catalog field names', async () => {
      requireTracee(TRACEE_V29);
      const result = await runCli(['tracepoints', TRACEE_V29, '--json']);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout) as TracepointNoteJson[];
      assert.deepEqual(actualNotes(json), await expectedNotes(TRACEE_V29));
      assert.deepEqual(
        [...new Set(json.map((note) => `${note.provider}:${note.name}`))].filter((id) => !id.startsWith('tracee:')).sort(),
        TRACEPOINT_CATALOG.map((doc) => doc.id).sort(),
        'all 20 Bitcoin Core tracepoints are in the tracee',
      );
      // The tracee's own tracepoints of every argument kind (scenario "undocumented"): not documented.
      assert.deepEqual(
        json.filter((note) => note.provider === 'tracee').map((note) => [note.name, note.documented, note.arguments.replace(/@\S+/g, '')]).sort(),
        [['buffers', false, '8 8 8 4'], ['signed_ints', false, '-1 -2 -4 -8'], ['unsigned_ints', false, '1 2 4 8']],
      );
      for (const note of json.filter((entry) => entry.provider !== 'tracee')) {
        const doc = TRACEPOINT_CATALOG.find((entry) => entry.id === `${note.provider}:${note.name}`);
        assert.ok(doc);
        assert.equal(note.documented, true, `${doc.id} documented`);
        assert.equal(note.version_added, doc.versionAdded);
        assert.deepEqual(note.fields, doc.args.map((arg) => arg.field), `${doc.id} fields`);
        assert.equal(note.argument_count_mismatch, false, `${doc.id} argument count`);
        assert.notEqual(note.semaphore, null, `${doc.id} has a v29 semaphore`);
      }
    });

    it('adds source call sites with --source', async () => {
      requireTracee(TRACEE_V29);
      const result = await runCli(['tracepoints', '--json', '--source', FIXTURE_SOURCES_V29, TRACEE_V29]);
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout) as TracepointNoteJson[];
      const sitesOf = (id: string) => json.find((note) => `${note.provider}:${note.name}` === id)?.call_sites;
      assert.deepEqual(sitesOf('net:inbound_message'), [
        { path: path.join(FIXTURE_SOURCES_V29, 'src/net_processing.cpp'), line: 17, column: 5 },
      ]);
      assert.equal(sitesOf('utxocache:flush')?.length, 2);
      assert.deepEqual(sitesOf('mempool:added'), [], 'not called in the fixture sources');
    });
  });

  describe('tracepoints (table)', () => {
    it('prints a table of the v29 tracee with addresses, semaphores, sites, fields and the semaphore note', async () => {
      requireTracee(TRACEE_V29);
      const result = await runCli(['tracepoints', TRACEE_V29]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const lines = result.stdout.split('\n');
      assert.match(lines[0], /23 tracepoint\(s\) at 23 call site\(s\), 20 documented, 3 undocumented, 0 documented missing; Bitcoin Core v29 or newer/);
      assert.match(lines[2], /^CONTEXT\s+EVENT\s+ADDRESS\s+SEMAPHORE\s+SITES\s+STATUS\s+ARGS$/);
      const notes = await readelfStapsdtNotes(TRACEE_V29);
      for (const doc of TRACEPOINT_CATALOG) {
        const note = notes.find((entry) => entry.provider === doc.context && entry.name === doc.event);
        assert.ok(note, doc.id);
        const row = lines.find((line) => line.split(/\s+/)[0] === doc.context && line.split(/\s+/)[1] === doc.event);
        assert.ok(row, `row for ${doc.id}`);
        const cells = row.split(/\s+/);
        assert.equal(BigInt(cells[2]), note.location, `${doc.id} address`);
        assert.equal(BigInt(cells[3]), note.semaphore, `${doc.id} semaphore`);
        assert.equal(cells[4], '1', `${doc.id} sites`);
        assert.equal(cells[5], 'documented');
        assert.deepEqual(cells.slice(6), doc.args.map((arg) => arg.field), `${doc.id} fields`);
      }
      assert.match(result.stdout, /note: these tracepoints use semaphores .*bpftrace raises .*USDT\(pid=…\)/);
      assert.doesNotMatch(result.stdout, /missing:/);
    });

    it('prints "-" for semaphores of a legacy (v22–v28 style) build and no semaphore note', async () => {
      requireTracee(TRACEE_LEGACY);
      const result = await runCli(['tracepoints', TRACEE_LEGACY]);
      assert.equal(result.code, 0, result.stderr);
      const rows = result.stdout.split('\n').filter((line) => line.split(/\s+/)[5] === 'documented');
      assert.equal(rows.length, 20);
      for (const row of rows) assert.equal(row.split(/\s+/)[3], '-', row);
      assert.doesNotMatch(result.stdout, /semaphores/);
    });

    it('marks other providers UNDOCUMENTED and says no Bitcoin Core tracepoint is present', async () => {
      const result = await runCli(['tracepoints', PYTHON_WITH_USDT]);
      assert.equal(result.code, 0, result.stderr);
      const notes = await readelfStapsdtNotes(PYTHON_WITH_USDT);
      for (const note of notes) {
        const row = result.stdout.split('\n').find((line) => line.startsWith(`python  `) && line.split(/\s+/)[1] === note.name);
        assert.ok(row, note.name);
        assert.match(row, /UNDOCUMENTED/);
        assert.ok(row.endsWith(note.arguments), `${note.name} shows the raw argument specs`);
      }
      assert.match(result.stdout, /none of the 20 documented Bitcoin Core tracepoints is in this binary/);
    });
  });

  describe('errors: one line on stderr, no stack trace', () => {
    it('missing file → exit 1', async () => {
      const missing = path.join(temporary, 'no-such-bitcoind');
      assertOneLineError(await runCli(['tracepoints', missing]), 1, new RegExp(`${missing}.*does not exist`));
    });

    it('directory → exit 1', async () => {
      assertOneLineError(await runCli(['tracepoints', temporary]), 1, /is a directory/);
    });

    it('text file → exit 1, not an ELF file', async () => {
      const text = path.join(temporary, 'notes.txt');
      await fs.writeFile(text, 'just some text\nsecond line\n');
      assertOneLineError(await runCli(['tracepoints', text]), 1, /notes\.txt is not an ELF file/);
    });

    it('binary without USDT → exit 1 naming the build flags, in both output modes', async () => {
      for (const args of [['tracepoints', '/usr/bin/true'], ['tracepoints', '--json', '/bin/ls']]) {
        const binary = args[args.length - 1];
        assertOneLineError(
          await runCli(args),
          1,
          new RegExp(`^bitcoin-usdt: ${binary} has no USDT tracepoints \\(no \\.note\\.stapsdt section\\)\\. Rebuild Bitcoin Core with -DWITH_USDT=ON \\(CMake, v29\\+\\) or \\./configure --enable-usdt \\(v22–v28\\)\\.\\n$`),
        );
      }
    });

    it('--source that does not exist → exit 1', async () => {
      const missing = path.join(temporary, 'no-such-source-tree');
      assertOneLineError(await runCli(['tracepoints', '--source', missing, PYTHON_WITH_USDT]), 1, new RegExp(`--source ${missing}: does not exist`));
    });

    it('bad usage → exit 2', async () => {
      assertOneLineError(await runCli([]), 2, /missing command/);
      assertOneLineError(await runCli(['tracepoints']), 2, /missing <binary>/);
      assertOneLineError(await runCli(['tracepoints', '--bogus', PYTHON_WITH_USDT]), 2, /--bogus/);
      assertOneLineError(await runCli(['tracepoints', PYTHON_WITH_USDT, '/bin/ls']), 2, /expected one <binary>/);
      assertOneLineError(await runCli(['tracepoints', '--source']), 2, /--source/);
      assertOneLineError(await runCli(['frobnicate']), 2, /unknown command 'frobnicate'.*tracepoints/);
      assertOneLineError(await runCli(['--frobnicate']), 2, /unknown option '--frobnicate'/);
    });
  });

  describe('help and version', () => {
    it('--help lists the commands, `tracepoints --help` the options', async () => {
      const general = await runCli(['--help']);
      assert.equal(general.code, 0);
      assert.match(general.stdout, /^Usage: bitcoin-usdt <command>/);
      assert.match(general.stdout, /\n {2}tracepoints {2}List the USDT tracepoints/);
      const command = await runCli(['tracepoints', '--help']);
      assert.equal(command.code, 0);
      assert.match(command.stdout, /^Usage: bitcoin-usdt tracepoints \[options\] <binary>/);
      assert.match(command.stdout, /--json/);
      assert.match(command.stdout, /--source <dir>/);
      assert.deepEqual(await runCli(['help', 'tracepoints']), command);
    });

    it('--version prints the package version', async () => {
      const packageJson = JSON.parse(await fs.readFile(path.join(REPOSITORY, 'package.json'), 'utf8')) as { version: string };
      const result = await runCli(['--version']);
      assert.deepEqual(result, { code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
    });
  });
});

describe('tracepoints output formatting (in process)', () => {
  const note = (provider: string, name: string, specs: string, address: bigint): StapsdtNote => ({
    provider,
    name,
    address,
    notePc: address,
    base: 0x8000n,
    semaphore: null,
    semaphoreFileOffset: null,
    arguments: specs,
    args: parseArgSpecs(specs, 'x86-64'),
  });
  const match = matchCatalog({
    path: '/opt/bitcoin/src/bitcoind',
    elf: { elfClass: 64, endianness: 'little', machine: 'x86-64', type: 'DYN' },
    hasNoteSection: true,
    fileSize: 100,
    notes: [
      note('net', 'inbound_message', '-8@%r12 8@%rbx 8@%rdi 8@%rsi 8@%rax 8@%rdx', 0x1133n),
      note('net', 'outbound_message', '-8@%r12 8@%rbx 8@%rdi 8@%rsi 8@%rax', 0x1134n),
      note('mempool', 'added', '8@%rax -4@%edx -8@%rcx', 0x1135n),
      note('mempool', 'added', '8@%rax -4@%edx -8@%rcx', 0x1140n),
      note('evil', 'name\u001b[31m', '8@%rax', 0x1150n),
    ],
  });

  it('lists warnings, missing contexts with hints, missing tracepoints and escapes control characters', () => {
    const text = formatTracepointTable(match, null);
    const lines = text.split('\n');
    assert.equal(
      lines[0],
      '/opt/bitcoin/src/bitcoind: 4 tracepoint(s) at 5 call site(s), 3 documented, 1 undocumented, 17 documented missing; Bitcoin Core v25 or newer',
    );
    assert.match(text, /\nmempool +added +0x1135 \(\+1\) +- +2 +documented +txid vsize fee\n/);
    assert.match(text, /\nnet +outbound_message +0x1134 +- +1 +documented +peer_id peer_addr conn_type msg_type msg_size\n/);
    assert.match(text, /\nevil +name\\x1b\[31m +0x1150 +- +1 +UNDOCUMENTED +8@%rax\n/);
    assert.doesNotMatch(text, /\u001b/);
    assert.match(text, /\nwarning: net:outbound_message: the binary passes 5 argument\(s\), the catalog documents 6\n/);
    assert.match(text, /\nmissing: every coin_selection tracepoint; maybe the wallet is compiled out/);
    assert.match(text, /\nmissing: every validation tracepoint\n/);
    assert.match(text, /\nmissing: net:closed_connection \(added in v29; this build may be older\)\n/);
    assert.match(text, /\nmissing: mempool:removed \(added in v25\)\n/);
    assert.doesNotMatch(text, /semaphores/);
  });

  it('shows the first source location per tracepoint and gives JSON call sites', () => {
    const sites = indexCallSites([
      { tracepoint: 'mempool:added', context: 'mempool', event: 'added', macro: 'TRACE3', path: path.join(process.cwd(), 'src/validation.cpp'), line: 1200, column: 9 },
      { tracepoint: 'mempool:added', context: 'mempool', event: 'added', macro: 'TRACE3', path: path.join(process.cwd(), 'src/txmempool.cpp'), line: 40, column: 5 },
    ]);
    const text = formatTracepointTable(match, sites);
    assert.match(text, /\nCONTEXT +EVENT +ADDRESS +SEMAPHORE +SITES +STATUS +SOURCE +ARGS\n/);
    assert.match(text, /\nmempool +added .* documented +src\/txmempool\.cpp:40 \(\+1\) +txid vsize fee\n/);
    assert.match(text, /\nnet +inbound_message .* documented +- +peer_id/);
    const json = tracepointNotesJson(match, sites);
    assert.equal(json.length, 5);
    const added = json.filter((entry) => entry.name === 'added');
    assert.deepEqual(added.map((entry) => entry.address), ['0x1135', '0x1140']);
    assert.deepEqual(added[0].call_sites?.map((site) => `${path.basename(site.path)}:${site.line}:${site.column}`), [
      'txmempool.cpp:40:5',
      'validation.cpp:1200:9',
    ]);
    const outbound = json.find((entry) => entry.name === 'outbound_message');
    assert.deepEqual(outbound?.fields, ['peer_id', 'peer_addr', 'conn_type', 'msg_type', 'msg_size']);
    assert.equal(outbound?.argument_count_mismatch, true);
    const evil = json.find((entry) => entry.provider === 'evil');
    assert.deepEqual([evil?.documented, evil?.fields, evil?.version_added, evil?.args[0].field], [false, null, null, null]);
    assert.deepEqual(json[0].args[0], { index: 0, spec: '-8@%r12', size: 8, signed: true, float: false, field: 'peer_id' });
  });
});
