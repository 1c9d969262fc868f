// The other end of a loopback connection that is not a traced node, found in the real /proc: this process listens
// (as a node would) and a real Python process, run as a functional test's script, connects to it (as the test
// framework's P2PInterface does). The network model then names that end instead of "other end not found".

import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { NetworkModel } from '../../src/core/network/networkModel';
import { describeSocketOwner, findOtherEnds, OtherEndNames } from '../../src/core/network/otherEnds';

/** The script connects to the port in argv[1], says so and waits for stdin to close. */
const CONNECTING_SCRIPT = `import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
sys.stdin.read()
`;

describe('other ends of loopback connections (real /proc)', () => {
  let work: string;
  let server: Server;
  let child: ChildProcess | undefined;
  let accepted: Socket;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'bitcoin-usdt-other-ends-'));
    const functional = join(work, 'test', 'functional');
    mkdirSync(functional, { recursive: true });
    writeFileSync(join(functional, 'feature_x.py'), CONNECTING_SCRIPT);
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const connection = once(server, 'connection') as Promise<[Socket]>;
    child = spawn('python3', [join(functional, 'feature_x.py'), String((server.address() as AddressInfo).port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    [accepted] = await connection;
  });

  after(async () => {
    child?.kill();
    accepted?.destroy();
    server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('finds the Python process at the other end and names it after its test script', async () => {
    const peerAddr = `${accepted.remoteAddress}:${accepted.remotePort}`;
    const [end] = await findOtherEnds([{ nodePid: process.pid, peerAddr }]);
    assert.ok(end.owner, `the other end of ${peerAddr}: ${JSON.stringify(end)}`);
    assert.equal(end.owner.pid, child?.pid);
    assert.equal(describeSocketOwner(end.owner), 'test framework (feature_x.py)');

    // The model: the node's inbound loopback peer is named, not "other end not found".
    const model = new NetworkModel();
    model.addSession({ id: 's', pid: process.pid, startedAt: new Date().toISOString() });
    model.ingest('s', [{ event: 'net:inbound_message', elapsed_ns: 1_000, peer_id: 7, peer_addr: peerAddr, conn_type: 'inbound', msg_type: 'version', msg_size: 102 } as never]);
    const before = model.snapshot().connections;
    assert.deepEqual(before.map((c) => [c.state, c.otherEnd]), [['other end not found', null]]);
    const names = new OtherEndNames();
    assert.equal(await names.nameUnpaired(model), true);
    assert.deepEqual(model.snapshot().connections.map((c) => [c.peerAddr, c.state, c.otherEnd]), [[peerAddr, 'peer not traced', 'test framework (feature_x.py)']]);
    // Looked up once: a second pass finds nothing new to look up.
    assert.deepEqual(model.unnamedLoopbackPeers(), []);
    assert.equal(await names.nameUnpaired(model), false);
  });

  it('says the connection is closed once the other end has gone', async () => {
    const peerAddr = `${accepted.remoteAddress}:${accepted.remotePort}`;
    child?.stdin?.end();
    await once(child as ChildProcess, 'exit');
    accepted.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await findOtherEnds([{ nodePid: process.pid, peerAddr }]), [{ owner: null, socket: 'closed' }]);
  });

  it('names other processes by program and pid, bounded, from their command line as text', () => {
    assert.equal(describeSocketOwner({ pid: 5, commandLine: ['/usr/bin/python3', '-u', '/src/bitcoin/test/functional/p2p_ping.py', '--portseed=3'] }), 'test framework (p2p_ping.py)');
    assert.equal(describeSocketOwner({ pid: 5, commandLine: ['python3', 'contrib/peers.py'] }), 'python3 peers.py (pid 5)');
    assert.equal(describeSocketOwner({ pid: 6, commandLine: ['/opt/bitcoin/bin/bitcoind', '-regtest'] }), 'bitcoind (pid 6), not traced');
    assert.equal(describeSocketOwner({ pid: 7, commandLine: ['/usr/bin/nc', '127.0.0.1', '18444'] }), 'nc (pid 7)');
    assert.equal(describeSocketOwner({ pid: 8, commandLine: [] }), '? (pid 8)');
    const long = describeSocketOwner({ pid: 9, commandLine: [`/tmp/${'<img src=x onerror=alert(1)>'.repeat(10)}`] });
    assert.ok(long.length <= 60 + ' (pid 9)'.length && long.includes('…'), long);
  });
});
