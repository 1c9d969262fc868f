import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusalNotices } from '../../src/core/tools/refusalNotices';
import { checkToolTarget } from '../../src/core/tools/toolTarget';

const SIX = ['p2p-traffic', 'p2p-connections', 'connectblock-benchmark', 'utxocache-flush', 'utxos', 'mempool-monitor'];

describe('refusals of tools started together', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'refusal-notices-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a source file picked for six tools: one notice naming the cause once, not six with each tool\'s needs', async () => {
    const source = join(dir, 'net_processing.cpp');
    writeFileSync(source, '// Copyright (c) 2009-2010 Satoshi Nakamoto\n#include <net_processing.h>\n');
    const checks = await Promise.all(SIX.map((toolId) => checkToolTarget({ toolId, binaryPath: source, pid: null })));
    for (const [i, check] of checks.entries()) {
      assert.match(check.refusal ?? '', new RegExp(`is not an ELF file .*; ${SIX[i]} needs `), 'a tool started alone still says what it needs');
      assert.equal(check.sharedRefusal, `${source} is not a bitcoind with USDT tracepoints (${source} is not an ELF file (it starts with "// Copyright (c)…"): pick a compiled bitcoind binary, not a script or source file)`);
    }
    const refusals = checks.map((check, i) => ({ tool: SIX[i], message: check.refusal ?? '', shared: check.sharedRefusal }));
    const notices = refusalNotices(refusals, SIX.length);
    assert.deepEqual(notices, [`${SIX.join(', ')}: ${checks[0].sharedRefusal}`]);
    assert.equal(notices[0].split('is not an ELF file').length, 2, 'the cause appears exactly once');
    assert.deepEqual(refusalNotices(refusals.slice(0, 1), 1), [refusals[0].message], 'one tool alone: its own message');
  });

  it('tool-specific refusals stay apart, the same message from two tools is said once', () => {
    const notices = refusalNotices(
      [
        { tool: 'mempool-monitor', message: 'A BCC tool (mempool-monitor) traces one process.', shared: null },
        { tool: 'raw-p2p-msgs', message: 'A BCC tool (raw-p2p-msgs) traces one process.', shared: null },
        { tool: 'coin-selection', message: 'Lacks wallet tracepoints.', shared: null },
        { tool: 'utxos', message: 'Lacks wallet tracepoints.', shared: null },
      ],
      5,
    );
    assert.deepEqual(notices, [
      'mempool-monitor: A BCC tool (mempool-monitor) traces one process.',
      'raw-p2p-msgs: A BCC tool (raw-p2p-msgs) traces one process.',
      'coin-selection, utxos: Lacks wallet tracepoints.',
    ]);
  });
});
