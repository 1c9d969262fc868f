import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  blankCommentsAndLiterals,
  findCallSites,
  findCallSitesInText,
  isSkippedDirectory,
  scanCallSites,
  type CallSiteIndex,
} from '../../src/core/source/callSiteFinder';

const FIXTURES = path.resolve(__dirname, '../fixtures/sources');

/** "id → ['relative/path:line:column MACRO', …]" for compact comparisons. */
function summarize(index: CallSiteIndex, root: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [id, sites] of index) {
    result[id] = sites.map((site) => `${path.relative(root, site.path)}:${site.line}:${site.column} ${site.macro}`);
  }
  return result;
}

async function temporaryDirectory(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [relative, text] of Object.entries(files)) {
    const file = path.join(root, relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text);
  }
}

describe('call site finder', () => {
  const cleanup: string[] = [];
  after(async () => {
    await Promise.all(cleanup.map((directory) => fs.rm(directory, { recursive: true, force: true })));
  });

  it('finds v29 TRACEPOINT calls (multi-line, odd spacing) and ignores definitions, comments and strings', async () => {
    const root = path.join(FIXTURES, 'v29');
    const scan = await scanCallSites([root]);
    assert.equal(scan.filesScanned, 5);
    assert.deepEqual(summarize(scan.index, root), {
      'net:closed_connection': ['src/net.cpp:13:5 TRACEPOINT'],
      'net:evicted_inbound_connection': ['src/net.cpp:26:5 TRACEPOINT'],
      'net:inbound_connection': ['src/net.cpp:40:35 TRACEPOINT'],
      'net:outbound_connection': ['src/net.cpp:46:5 TRACEPOINT'],
      'net:outbound_message': ['src/net.cpp:52:5 TRACEPOINT'],
      'net:misbehaving_connection': ['src/net_processing.cpp:9:5 TRACEPOINT'],
      'net:inbound_message': ['src/net_processing.cpp:17:5 TRACEPOINT'],
      'validation:block_connected': ['src/validation.cpp:10:5 TRACEPOINT'],
      'utxocache:flush': ['src/validation.cpp:23:5 TRACEPOINT', 'src/validation.cpp:45:5 TRACEPOINT'],
      'mempool:replaced': ['src/validation.cpp:30:9 TRACEPOINT'],
    });
    const closed = scan.index.get('net:closed_connection')?.[0];
    assert.deepEqual(closed && { context: closed.context, event: closed.event, path: closed.path }, {
      context: 'net',
      event: 'closed_connection',
      path: path.join(root, 'src/net.cpp'),
    });
  });

  it('finds v22–v28 TRACE<n> calls and ignores the TRACEn macro definitions', async () => {
    const root = path.join(FIXTURES, 'v22');
    const index = await findCallSites([root]);
    assert.deepEqual(summarize(index, root), {
      'net:outbound_message': ['src/net.cpp:12:5 TRACE6'],
      'net:inbound_message': ['src/net_processing.cpp:6:5 TRACE6'],
      'coin_selection:normal_create_tx_internal': ['src/wallet/spend.cpp:6:5 TRACE4'],
      'coin_selection:attempting_aps_create_tx': ['src/wallet/spend.cpp:10:9 TRACE1'],
      'coin_selection:aps_create_tx_internal': ['src/wallet/spend.cpp:12:5 TRACE5'],
    });
  });

  it('merges several roots into one index and accepts a single file as a root', async () => {
    const index = await findCallSites([path.join(FIXTURES, 'v22'), path.join(FIXTURES, 'v29', 'src', 'net_processing.cpp')]);
    assert.deepEqual(
      index.get('net:inbound_message')?.map((site) => path.relative(FIXTURES, site.path)),
      ['v22/src/net_processing.cpp', 'v29/src/net_processing.cpp'],
    );
    assert.equal(index.get('net:misbehaving_connection')?.length, 1);
    assert.equal(index.get('net:closed_connection'), undefined);
  });

  it('returns an empty index for a root that does not exist', async () => {
    const scan = await scanCallSites([path.join(FIXTURES, 'no-such-directory')]);
    assert.equal(scan.index.size, 0);
    assert.equal(scan.filesScanned, 0);
  });

  describe('in one text', () => {
    it('reports 1-based line and column of the macro token', () => {
      const text = 'int x;\n\tTRACEPOINT(net, inbound_message, 1);\n    TRACE2(mempool, rejected, a, b);\n';
      assert.deepEqual(
        findCallSitesInText(text, 'a.cpp').map((site) => [site.tracepoint, site.line, site.column, site.macro, site.path]),
        [
          ['net:inbound_message', 2, 2, 'TRACEPOINT', 'a.cpp'],
          ['mempool:rejected', 3, 5, 'TRACE2', 'a.cpp'],
        ],
      );
    });

    it('tolerates whitespace and newlines between the parenthesis, context, comma and event', () => {
      const text = 'TRACEPOINT\n(\n  net\n  ,\n  closed_connection\n  , a);\nTRACE12 ( utxocache , add ,1,2,3,4,5,6,7,8,9,10,11,12);';
      assert.deepEqual(
        findCallSitesInText(text, 'b.cpp').map((site) => [site.tracepoint, site.line, site.column]),
        [
          ['net:closed_connection', 1, 1],
          ['utxocache:add', 7, 1],
        ],
      );
    });

    it('skips calls in // and /* */ comments, doc-comment lines, strings, raw strings and char literals', () => {
      const text = [
        '// TRACEPOINT(net, line_comment, 1);',
        '   * TRACEPOINT(net, doc_comment_line, 1);',
        '/* TRACEPOINT(net, block_comment,',
        '   2) */ TRACEPOINT(net, after_block_comment, 3);',
        'auto s = "TRACEPOINT(net, in_string, 1)"; auto c = \'"\'; TRACE1(net, after_char_literal, 1);',
        'auto r = R"x(TRACEPOINT(net, in_raw_string, 1) )" still raw)x"; TRACE1(net, after_raw_string, 1);',
        'int n = 1\'000; TRACE1(net, after_digit_separator, n); // TRACE1(net, trailing_comment, 1)',
        'foo(); // a comment continued \\',
        'TRACEPOINT(net, continued_comment, 1);',
        'TRACEPOINT(net, last, 1);',
      ].join('\n');
      assert.deepEqual(
        findCallSitesInText(text, 'c.cpp').map((site) => `${site.tracepoint}@${site.line}`),
        [
          'net:after_block_comment@4',
          'net:after_char_literal@5',
          'net:after_raw_string@6',
          'net:after_digit_separator@7',
          'net:last@10',
        ],
      );
    });

    it('excludes #define lines and their continuation lines', () => {
      const text = [
        '#define TRACEPOINT(context, ...) STAP_PROBEV(context, __VA_ARGS__)',
        '#  define TRACE6(context, event, a, b, c, d, e, f) \\',
        '    TRACE6(context, event, a, b, c, d, e, f)',
        '#define WRAP(a) TRACEPOINT(net, wrapped, a)',
        'TRACEPOINT(net, real, 1);',
      ].join('\n');
      assert.deepEqual(findCallSitesInText(text, 'd.h').map((site) => site.tracepoint), ['net:real']);
    });

    it('ignores look-alikes: other macros, bare TRACE, semaphores and non-identifier arguments', () => {
      const text = [
        'TRACEPOINT_SEMAPHORE(net, inbound_message);',
        'DTRACE_PROBE2(net, fake, a, b);',
        'MY_TRACE1(net, fake, a);',
        'TRACE(net, bare);',
        'TRACEPOINT(context, ...);',
        'TRACEPOINT(net, 3);',
        'TRACE123(net, too_many_digits);',
      ].join('\n');
      assert.deepEqual(findCallSitesInText(text, 'e.cpp'), []);
    });

    it('handles CRLF line endings', () => {
      const text = '// comment\r\nint a;\r\n  TRACEPOINT(mempool, added, a, b, c);\r\n';
      assert.deepEqual(findCallSitesInText(text, 'f.cpp').map((site) => [site.line, site.column]), [[3, 3]]);
    });

    it('keeps offsets and newlines when blanking comments and literals', () => {
      const text = 'a /* x\ny */ "s\\"t" // z\nb';
      const blanked = blankCommentsAndLiterals(text);
      assert.equal(blanked.length, text.length);
      assert.equal(blanked, 'a     \n     "    "     \nb');
    });
  });

  it('skips build, dependency, VCS and hidden directories and non-source files', async () => {
    const root = await temporaryDirectory('callsites-skip-');
    cleanup.push(root);
    const call = (event: string): string => `void f() {\n  TRACEPOINT(net, ${event}, 1);\n}\n`;
    await writeFiles(root, {
      'src/kept.cpp': call('kept_cpp'),
      'src/kept.h': call('kept_h'),
      'src/kept.c': call('kept_c'),
      'src/kept.hpp': call('kept_hpp'),
      'src/UPPER.CPP': call('kept_upper_case_extension'),
      'src/notes.txt': call('in_txt'),
      'src/script.py': call('in_py'),
      'src/gen.cc': call('in_cc'),
      'build/src/generated.cpp': call('in_build'),
      'build-fuzz/x.cpp': call('in_build_fuzz'),
      'build_msan/x.cpp': call('in_build_msan'),
      'depends/work/x.cpp': call('in_depends'),
      'node_modules/pkg/x.cpp': call('in_node_modules'),
      '.git/objects/x.cpp': call('in_git'),
      '.vscode/x.cpp': call('in_hidden'),
      'src/CMakeFiles/x.cpp': call('in_cmakefiles'),
      'src/builder/x.cpp': call('kept_builder_is_not_a_build_dir'),
    });
    await fs.symlink(root, path.join(root, 'src', 'loop'));
    const scan = await scanCallSites([root]);
    assert.deepEqual([...scan.index.keys()].sort(), [
      'net:kept_builder_is_not_a_build_dir',
      'net:kept_c',
      'net:kept_cpp',
      'net:kept_h',
      'net:kept_hpp',
      'net:kept_upper_case_extension',
    ]);
    assert.equal(scan.filesScanned, 6);
    assert.ok(isSkippedDirectory('build') && isSkippedDirectory('.git') && isSkippedDirectory('depends'));
    assert.ok(!isSkippedDirectory('src') && !isSkippedDirectory('builder'));
  });

  it('stops with an AbortError when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(findCallSites([path.join(FIXTURES, 'v29')], { signal: controller.signal }), { name: 'AbortError' });
  });

  it('indexes a generated Bitcoin-Core-sized tree (2,000 files, ~30 MB) correctly', async function () {
    this.timeout(120_000);
    const root = await temporaryDirectory('callsites-big-');
    cleanup.push(root);
    const fileCount = 2000;
    const fillerLine = '    total += ComputeSomethingExpensive(value, index) * kScaleFactor; // keep the compiler busy\n';
    const fillerLines = Math.ceil(15_000 / fillerLine.length);
    const expected = new Map<string, string[]>();
    let expectedBytes = 0;
    const writes: Promise<void>[] = [];
    for (let fileNumber = 0; fileNumber < fileCount; fileNumber++) {
      const directory = `src/module${fileNumber % 40}/sub${fileNumber % 7}`;
      const relative = `${directory}/file${fileNumber}.${fileNumber % 3 === 0 ? 'h' : 'cpp'}`;
      const lines: string[] = [`// file ${fileNumber}\n`, '#include <util/trace.h>\n'];
      for (let line = 0; line < fillerLines; line++) lines.push(fillerLine);
      if (fileNumber % 10 === 0) lines.splice(5, 0, `// TRACEPOINT(net, commented_${fileNumber}, 1);\n`);
      if (fileNumber % 50 === 0) {
        const event = `event_${fileNumber % 200}`;
        lines.splice(100, 0, `  TRACEPOINT(ctx${fileNumber % 3},\n      ${event}, a, b);\n`);
        const id = `ctx${fileNumber % 3}:${event}`;
        expected.set(id, [...(expected.get(id) ?? []), `${relative}:101:3 TRACEPOINT`]);
      }
      if (fileNumber % 333 === 7) {
        lines.splice(150, 0, `    TRACE6(net, inbound_message, a, b, c, d, e, f);\n`);
        expected.set('net:inbound_message', [...(expected.get('net:inbound_message') ?? []), `${relative}:151:5 TRACE6`]);
      }
      const text = lines.join('');
      expectedBytes += Buffer.byteLength(text);
      writes.push(fs.mkdir(path.join(root, directory), { recursive: true }).then(() => fs.writeFile(path.join(root, relative), text)));
      if (writes.length >= 64) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    await writeFiles(root, { 'build/generated/huge.cpp': 'TRACEPOINT(net, in_build_dir, 1);\n' });
    for (const sites of expected.values()) sites.sort();

    const started = process.hrtime.bigint();
    const scan = await scanCallSites([root]);
    const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;

    assert.equal(scan.filesScanned, fileCount);
    assert.equal(scan.bytesScanned, expectedBytes);
    assert.ok(expectedBytes > 28_000_000, `tree is ${expectedBytes} bytes`);
    const actual = summarize(scan.index, root);
    for (const sites of Object.values(actual)) sites.sort();
    assert.deepEqual(actual, Object.fromEntries(expected));
    assert.equal(Object.values(actual).flat().length, fileCount / 50 + 6);
    console.log(`      scanned ${fileCount} files, ${(expectedBytes / 1e6).toFixed(1)} MB in ${milliseconds.toFixed(0)} ms`);
  });
});
