// Planning a functional test run (src/core/functionalTest): the command and environment against a chosen build,
// the config.ini made when the source tree has none, and trace-test's arguments. The real Bitcoin Core source
// tree (BITCOIN_SOURCE, see test/realNode/realNodeEnv.ts) is the test directory.

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceTestArgs } from '../../src/cli/traceTestCommand';
import { FunctionalTestError, planFunctionalTest } from '../../src/core/functionalTest/functionalTest';
import { bitcoinSource, masterBuild } from '../realNode/realNodeEnv';

describe('functional test plan (trace-test)', () => {
  const configDir = mkdtempSync(join(tmpdir(), 'functional-test-plan-'));
  after(() => rmSync(configDir, { recursive: true, force: true }));

  it('runs a test of a source tree without config.ini with one made for the build, BITCOIND and BITCOINCLI set', () => {
    const source = bitcoinSource();
    const build = masterBuild();
    const test = join(source, 'test', 'functional', 'p2p_ping.py');
    const plan = planFunctionalTest({ testPath: test, bitcoind: build.bitcoind, bitcoinCli: build.bitcoinCli, testArgs: ['--portseed=150'], hasWallet: false, configDir });
    assert.equal(plan.name, 'p2p_ping');
    assert.deepEqual(plan.argv, ['python3', test, `--configfile=${join(configDir, 'config.ini')}`, '--portseed=150']);
    assert.deepEqual(plan.env, { BITCOIND: build.bitcoind, BITCOINCLI: build.bitcoinCli });
    assert.ok(plan.configIni);
    assert.match(plan.configIni.text, new RegExp(`^SRCDIR=${source}$`, 'm'));
    assert.match(plan.configIni.text, /^ENABLE_WALLET=false$/m);
    assert.match(plan.configIni.text, /^ENABLE_USDT_TRACEPOINTS=true$/m);
    const own = planFunctionalTest({ testPath: test, bitcoind: build.bitcoind, testArgs: ['--configfile=/x/config.ini'], hasWallet: true, configDir });
    assert.equal(own.configIni, null, 'a --configfile of the user\'s is kept');
  });

  it('refuses what cannot run, saying what to do', () => {
    const source = bitcoinSource();
    const bitcoind = masterBuild().bitcoind;
    assert.throws(() => planFunctionalTest({ testPath: join(source, 'test', 'functional', 'test_runner.py'), bitcoind, testArgs: [], hasWallet: true, configDir }),
      (e: Error) => e instanceof FunctionalTestError && /test_runner.py reads .*config.ini, which this source tree lacks .*: run your build directory's test\/functional\/test_runner.py/.test(e.message));
    assert.throws(() => planFunctionalTest({ testPath: join(source, 'README.md'), bitcoind, testArgs: [], hasWallet: true, configDir }), /is not a Python test file/);
    assert.throws(() => planFunctionalTest({ testPath: join(configDir, 'x.py'), bitcoind, testArgs: [], hasWallet: true, configDir }), /does not exist/);
  });

  it('trace-test arguments: tools, the binary from --binary or BITCOIND, the test\'s own arguments after --', async () => {
    const bitcoind = masterBuild().bitcoind;
    const options = await parseTraceTestArgs(['t.py', '--tools', 'p2p-traffic,p2p-connections', '--', '--portseed=151', '--tools', 'x'], { BITCOIND: bitcoind });
    assert.deepEqual(options.tools.map((t) => t.id), ['p2p-traffic', 'p2p-connections']);
    assert.deepEqual(options.testArgs, ['--portseed=151', '--tools', 'x']);
    assert.equal(options.json, false);
    await assert.rejects(parseTraceTestArgs(['t.py'], {}), /pass --binary PATH \(or set BITCOIND\)/);
    await assert.rejects(parseTraceTestArgs(['t.py', '--tools', 'nope'], { BITCOIND: bitcoind }), /unknown tool 'nope'/);
  });
});
