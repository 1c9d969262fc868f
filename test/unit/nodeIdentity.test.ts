// Node identity from a command line and bitcoin.conf, a process's TCP sockets read from /proc (this test
// process's own real sockets), and the resolver that adds both to a live stream.

import { strict as assert } from 'node:assert';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { nodeIdentityFrom } from '../../src/core/network/nodeIdentity';
import { NodeResolver } from '../../src/core/network/nodeResolver';
import { procAddress, readProcessTcpSockets } from '../../src/core/network/procSockets';

describe('node identity', () => {
  it('a functional-test node: datadir, run, chain and ports from its bitcoin.conf', () => {
    const conf = 'regtest=1\n[regtest]\nport=12345\nrpcport=12346\n# a comment\n';
    const node = nodeIdentityFrom(42, ['/b/bitcoind', '-datadir=/tmp/test_runner_x/p2p_ping_1/node2', '-logtimemicros'], '/', conf);
    assert.deepEqual(node, { event: 'node', pid: 42, node: 'node2', run: '/tmp/test_runner_x/p2p_ping_1', datadir: '/tmp/test_runner_x/p2p_ping_1/node2', chain: 'regtest', p2p_port: 12345, rpc_port: 12346 });
  });

  it('the command line wins over the file; defaults per chain; no datadir: the pid names it', () => {
    assert.equal(nodeIdentityFrom(1, ['bitcoind', '-regtest', '-datadir=rel/node0', '-port=23000'], '/home/u', 'regtest=1\n[regtest]\nport=1\n').p2p_port, 23000);
    assert.equal(nodeIdentityFrom(1, ['bitcoind', '-regtest', '-datadir=rel/node0'], '/home/u', null).datadir, '/home/u/rel/node0');
    const plain = nodeIdentityFrom(7, ['bitcoind', '-signet'], null, null);
    assert.deepEqual([plain.node, plain.chain, plain.p2p_port, plain.rpc_port, plain.run], ['pid 7', 'signet', 38333, 38332, null]);
    assert.equal(nodeIdentityFrom(7, ['bitcoind', '-regtest', '-nolisten'], null, null).p2p_port, null);
  });
});

/** A real loopback connection of this process: a listening server and a client connected to it. */
async function loopbackConnection(): Promise<{ server: Server; client: Socket; port: number }> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  return { server, client, port };
}

describe('a process\'s TCP sockets from /proc', () => {
  it('addresses as Bitcoin Core writes them', () => {
    assert.equal(procAddress('0100007F:4E20'), '127.0.0.1:20000');
    assert.equal(procAddress('00000000000000000000000001000000:4E20'), '[::1]:20000');
    assert.equal(procAddress('0000000000000000FFFF00000100007F:0050'), '127.0.0.1:80');
    assert.equal(procAddress('B80D0120000000000000000001000000:0050'), '[2001:db8::1]:80');
  });

  it('finds the local end of a real loopback connection of this process', async () => {
    const { server, client, port } = await loopbackConnection();
    try {
      const sockets = await readProcessTcpSockets(process.pid);
      const listening = sockets.find((s) => s.state === 'LISTEN' && s.local === `127.0.0.1:${port}`);
      assert.ok(listening, 'the listening socket');
      const outbound = sockets.find((s) => s.state === 'ESTABLISHED' && s.remote === `127.0.0.1:${port}`);
      assert.ok(outbound, 'the connecting socket');
      assert.equal(outbound.local, `127.0.0.1:${client.localPort}`);
    } finally {
      client.destroy();
      server.close();
    }
  });
});

describe('NodeResolver (what the unprivileged side adds to a live stream)', () => {
  it('describes the session\'s pid once, finds the local end of an outbound peer\'s real socket, and bounds the clock', async () => {
    const { server, client, port } = await loopbackConnection();
    try {
      const emitted: Record<string, unknown>[] = [];
      let now = 1_000_000_000;
      const resolver = new NodeResolver({ sessionPid: process.pid, emit: (events) => emitted.push(...(events as unknown as Record<string, unknown>[])), nowUs: () => now });
      const message = (elapsed: number, connType: string, addr: string): never =>
        ({ event: 'net:outbound_message', elapsed_ns: elapsed, peer_id: connType === 'inbound' ? 9 : 3, peer_addr: addr, conn_type: connType, msg_type: 'ping', msg_size: 8 }) as never;
      resolver.observe([message(5_000_000, 'outbound-full-relay', `127.0.0.1:${port}`), message(6_000_000, 'inbound', '127.0.0.1:1')]);
      now += 2_000; // a later batch that arrived with less delay narrows the bound
      resolver.observe([message(9_000_000, 'outbound-full-relay', `127.0.0.1:${port}`)]);
      await resolver.idle();
      const byKind = (kind: string): Record<string, unknown>[] => emitted.filter((e) => e.event === kind);
      assert.equal(byKind('node').length, 1);
      assert.equal(byKind('node')[0].pid, process.pid);
      assert.deepEqual(byKind('node:peer_socket'), [{ event: 'node:peer_socket', pid: process.pid, peer_id: 3, peer_addr: `127.0.0.1:${port}`, local_addr: `127.0.0.1:${client.localPort}` }]);
      assert.deepEqual(byKind('clock'), [
        { event: 'clock', elapsed_ns: 6_000_000, unix_us: 1_000_000_000 },
        { event: 'clock', elapsed_ns: 9_000_000, unix_us: 1_000_002_000 },
      ]);
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('emits nothing after the session ends: session:end stays the last event of the stream', async () => {
    const emitted: string[] = [];
    const resolver = new NodeResolver({ sessionPid: process.pid, emit: (events) => emitted.push(...events.map((e) => e.event)), nowUs: () => 1_000_000_000 });
    const message = { event: 'net:inbound_message', elapsed_ns: 5_000_000, peer_id: 1, peer_addr: '127.0.0.1:1', conn_type: 'inbound', msg_type: 'ping', msg_size: 8 } as never;
    resolver.observe([message, { event: 'session:end', reason: 'bpftrace exited', exit_code: 0 }]);
    resolver.observe([message]);
    await resolver.idle();
    assert.deepEqual(emitted, []);
  });
});
