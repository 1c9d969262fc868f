// The helper's control and data connections, merged by the real private socket into the one ordered stream the
// decoder reads (src/core/probeSession/helperStream.ts). The "helper" here is this test writing to real Unix
// socket connections in the order and with the timing the real helper can produce; tools helper.test.ts runs
// the real helper and bpftrace through the same path.

import * as assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createPrivateSocket, type PrivateSocket } from '../../src/core/probeSession';
import type { HelperStream } from '../../src/core/probeSession';

const record = (event: string, fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ type: 'helper', data: { event, ...fields } }) + '\n';

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function write(socket: Socket, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));
  await pause();
}

const pause = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function collect(stream: HelperStream): { text: () => string; ended: Promise<void> } {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (text += chunk));
  return { text: () => text, ended: new Promise((resolve) => stream.once('end', () => resolve())) };
}

describe('HelperStream: the helper\'s connections merged in order', () => {
  let socket: PrivateSocket;
  beforeEach(async () => {
    socket = await createPrivateSocket('bitcoin-usdt-unit-');
  });
  afterEach(async () => {
    await socket.close();
  });

  it('data follows its run\'s `started`, never splits a line, and `bpftrace_exit` waits for the data\'s end', async () => {
    const control = await open(socket.path);
    const merged = collect(await socket.waitForConnection(5_000));
    await write(control, record('target', { tool: 'p2p-traffic' }));
    const data = await open(socket.path);
    // The probe writes before the helper sent `started` (it starts bpftrace first): held back.
    await write(data, record('data_channel', { run: 1 }) + '{"type": "value", "data": ["in", 1]}\n{"type": "val');
    assert.equal(merged.text(), record('target', { tool: 'p2p-traffic' }));
    await write(control, record('started', { run: 1 }));
    // A control record while the data stands inside a line waits for that line's end.
    await write(control, record('attached'));
    assert.ok(!merged.text().includes('attached'), merged.text());
    await write(data, 'ue", "data": ["in", 2]}\n');
    // bpftrace exited (the helper says so) while its last line is still on its way: the record waits for the end.
    await write(control, record('bpftrace_exit', { run: 1, code: 0 }) + record('exit', { code: 0 }));
    control.end();
    await write(data, '{"type": "map", "data": {"@fired": {"net:inbound_message": 3}}}\n{"type": "value", "data": ["in"');
    assert.ok(!merged.text().includes('bpftrace_exit'), merged.text());
    data.end();
    await merged.ended;
    assert.equal(
      merged.text(),
      record('target', { tool: 'p2p-traffic' }) +
        record('started', { run: 1 }) +
        '{"type": "value", "data": ["in", 1]}\n{"type": "value", "data": ["in", 2]}\n' +
        record('attached') +
        '{"type": "map", "data": {"@fired": {"net:inbound_message": 3}}}\n{"type": "value", "data": ["in"\n' +
        record('bpftrace_exit', { run: 1, code: 0 }) +
        record('exit', { code: 0 }),
    );
  });

  it('runs follow one another: a re-attached run\'s data comes after its own `started` only', async () => {
    const control = await open(socket.path);
    const merged = collect(await socket.waitForConnection(5_000));
    const first = await open(socket.path);
    await write(first, record('data_channel', { run: 1 }));
    await write(control, record('started', { run: 1 }));
    await write(first, 'a\n');
    first.end();
    await pause();
    await write(control, record('bpftrace_exit', { run: 1 }) + record('reattached', { pid: 7 }));
    const second = await open(socket.path);
    await write(second, record('data_channel', { run: 2 }) + 'b\n');
    assert.ok(!merged.text().includes('b\n'), merged.text());
    await write(control, record('started', { run: 2 }));
    await write(second, 'c\n');
    second.end();
    await pause();
    await write(control, record('bpftrace_exit', { run: 2 }) + record('exit'));
    control.end();
    await merged.ended;
    assert.equal(
      merged.text(),
      record('started', { run: 1 }) + 'a\n' + record('bpftrace_exit', { run: 1 }) + record('reattached', { pid: 7 }) +
        record('started', { run: 2 }) + 'b\nc\n' + record('bpftrace_exit', { run: 2 }) + record('exit'),
    );
  });

  it('a later connection that does not announce a new run is closed and never read', async () => {
    const control = await open(socket.path);
    const merged = collect(await socket.waitForConnection(5_000));
    const stray = await open(socket.path);
    const strayClosed = new Promise((resolve) => stray.once('close', resolve));
    stray.on('error', () => undefined);
    stray.write('{"type": "value", "data": ["in", 666]}\n');
    await strayClosed;
    const data = await open(socket.path);
    await write(data, record('data_channel', { run: 1 }));
    const again = await open(socket.path);
    const againClosed = new Promise((resolve) => again.once('close', resolve));
    again.on('error', () => undefined);
    again.write(record('data_channel', { run: 1 }) + 'twice\n');
    await againClosed;
    await write(control, record('started', { run: 1 }));
    await write(data, 'ok\n');
    data.end();
    await pause();
    await write(control, record('bpftrace_exit', { run: 1 }));
    control.end();
    await merged.ended;
    assert.equal(merged.text(), record('started', { run: 1 }) + 'ok\n' + record('bpftrace_exit', { run: 1 }));
  });
});
