// The helper's node identity (probes/bitcoin-usdt-helper.py node_identity): what a bitcoind's command line and
// conf file say about it, on command lines captured from /proc/PID/cmdline of real nodes (a functional test's
// node, with its bitcoin.conf as the framework writes it; the real-node tier's own nodes) and bitcoind's
// option rules (last value wins, -noX, options end at the first argument that is not one, network-only
// options of the conf's top section count only for main). Runs the helper's own function with python3.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const HELPER = join(ROOT, 'probes', 'bitcoin-usdt-helper.py');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'nodeIdentity');

interface Identity {
  node: string;
  run: string;
  datadir: string;
  chain: string;
  p2p_port: number | null;
  rpc_port: number | null;
}

const PROGRAM = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('helper', sys.argv[1])
helper = importlib.util.module_from_spec(spec)
spec.loader.exec_module(helper)
print(json.dumps([helper.node_identity(c['argv'], c['cwd'], c['home'], lambda path, c=c: c['conf'].get(path)) for c in json.load(sys.stdin)]))
`;

interface Case {
  argv: readonly string[];
  cwd: string;
  home: string;
  conf: Record<string, string>;
}

/** Every case of the suite, answered by one python3 run (starting Python takes seconds on a loaded machine). */
const cases: Case[] = [];
let answers: Identity[] = [];

/** Registers a case; its answer is there once the suite's `before` ran. */
function identity(argv: readonly string[], options: { cwd?: string; home?: string; conf?: Record<string, string> } = {}): () => Identity {
  const index = cases.push({ argv, cwd: options.cwd ?? '/', home: options.home ?? '/home/dev', conf: options.conf ?? {} }) - 1;
  return () => answers[index];
}

describe('node identity from a bitcoind command line (the helper)', function () {
  this.timeout(60_000);
  // A functional test node (captured): its bitcoin.conf as the framework wrote it.
  const testArgv = readFileSync(join(FIXTURES, 'functional-test-node1.cmdline'), 'utf8').split('\0').filter((a) => a !== '');
  const testRun = '/tmp/test_runner_₿_🏃_20261204_192301/rpc_setban_3';
  const testConf = { [`${testRun}/node1/bitcoin.conf`]: readFileSync(join(FIXTURES, 'functional-test-node1.conf'), 'utf8') };
  const testNode = identity(testArgv, { cwd: '/tmp', conf: testConf });
  const testNodeNoConf = identity(testArgv, { cwd: '/tmp' });
  // A node of the real-node tier (captured from /proc/PID/cmdline).
  const tierNode = identity(['/tmp/bitcoin-usdt-network-two-nodes-doz7gM/bin/bitcoind', '-regtest', '-datadir=/tmp/bitcoin-usdt-network-two-nodes-doz7gM/run/node0',
    '-port=23000', '-rpcport=23002', '-bind=127.0.0.1:23000', '-listenonion=0', '-debug=net', '-logips', '-logtimemicros', '-printtoconsole=0', '-natpmp=0',
    '-fallbackfee=0.0002']);
  const conf = { '/etc/node.conf': 'chain=regtest\nport=1111\n[regtest]\nrpcport=2222\n# port=3333\n', '/d/alt.conf': 'regtest.port=4444\n' };
  const rules = {
    plain: identity(['bitcoind']),
    relative: identity(['bitcoind', '-datadir=data/a/', '-testnet4', '--port=1', '-port=2'], { cwd: '/srv' }),
    signet: identity(['bitcoind', '-chain=signet']),
    testnet: identity(['bitcoind', '-testnet']),
    negated: identity(['bitcoind', '-regtest', '-noregtest']),
    stray: identity(['bitcoind', 'stray', '-regtest']),
    badPorts: identity(['bitcoind', '-port=70000', '-rpcport=x']),
    confTop: identity(['bitcoind', '-datadir=/d', '-conf=/etc/node.conf'], { conf }),
    confRelative: identity(['bitcoind', '-datadir=/d', '-conf=alt.conf', '-regtest'], { conf }),
    commandLineWins: identity(['bitcoind', '-datadir=/d', '-conf=/etc/node.conf', '-port=5'], { conf }),
    mainTop: identity(['bitcoind', '-datadir=/m'], { conf: { '/m/bitcoin.conf': 'port=8335\nrpcport=8336\n' } }),
  };

  before(() => {
    answers = JSON.parse(execFileSync('python3', ['-I', '-S', '-B', '-c', PROGRAM, HELPER], { input: JSON.stringify(cases), encoding: 'utf8' })) as Identity[];
    assert.equal(answers.length, cases.length);
  });

  it('a functional test node (captured): node1 of its run, regtest and ports from the bitcoin.conf the framework wrote', () => {
    assert.equal(testArgv[1], `-datadir=${testRun}/node1`);
    assert.deepEqual(testNode(), { node: 'node1', run: testRun, datadir: `${testRun}/node1`, chain: 'regtest', p2p_port: 12249, rpc_port: 17249 });
    assert.deepEqual(testNodeNoConf(), { node: 'node1', run: testRun, datadir: `${testRun}/node1`, chain: 'main', p2p_port: null, rpc_port: null },
      'an unreadable conf: the command line alone (bitcoind would read main)');
  });

  it('a node of the real-node tier (captured): options on the command line', () => {
    assert.deepEqual(tierNode(), {
      node: 'node0', run: '/tmp/bitcoin-usdt-network-two-nodes-doz7gM/run', datadir: '/tmp/bitcoin-usdt-network-two-nodes-doz7gM/run/node0',
      chain: 'regtest', p2p_port: 23000, rpc_port: 23002,
    });
  });

  it('follows bitcoind\'s rules: default datadir, relative datadir, -conf, -chain, --x, -noX, last value wins, options end at a non-option', () => {
    assert.deepEqual(rules.plain(), { node: '.bitcoin', run: '/home/dev', datadir: '/home/dev/.bitcoin', chain: 'main', p2p_port: null, rpc_port: null });
    assert.deepEqual(rules.relative(), { node: 'a', run: '/srv/data', datadir: '/srv/data/a', chain: 'testnet4', p2p_port: 2, rpc_port: null });
    assert.equal(rules.signet().chain, 'signet');
    assert.equal(rules.testnet().chain, 'test');
    assert.equal(rules.negated().chain, 'main');
    assert.equal(rules.stray().chain, 'main', 'options end at the first non-option');
    assert.deepEqual([rules.badPorts().p2p_port, rules.badPorts().rpc_port], [null, null], 'not ports');
    assert.deepEqual(rules.confTop(), { node: 'd', run: '/', datadir: '/d', chain: 'regtest', p2p_port: null, rpc_port: 2222 },
      'the top section\'s port is main\'s only; [regtest] counts');
    assert.equal(rules.confRelative().p2p_port, 4444, 'a relative -conf is in the datadir; regtest.port=');
    assert.equal(rules.commandLineWins().p2p_port, 5, 'the command line wins');
    assert.deepEqual([rules.mainTop().p2p_port, rules.mainTop().rpc_port], [8335, 8336], 'main reads the top section');
  });
});
