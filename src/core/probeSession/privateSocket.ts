// The unprivileged end of a probe session: a Unix socket in a private directory (mode 0700, socket 0600)
// that the root helper connects to. Only the user (and root) can reach it. The helper's first connection
// carries its own records, each later one the output of one probe run (see helperStream.ts); the session
// reads them merged, in order, as one stream.

import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HelperStream } from './helperStream';

export interface PrivateSocket {
  readonly directory: string;
  readonly path: string;
  /**
   * Resolves with the helper's records once it connected: its control connection and the data connections that
   * follow, merged in order. Rejects after `timeoutMs` or when closed first.
   */
  waitForConnection(timeoutMs?: number): Promise<HelperStream>;
  /** Stops listening, closes the connections and removes the directory. Safe to call twice. */
  close(): Promise<void>;
}

export async function createPrivateSocket(prefix = 'bitcoin-usdt-'): Promise<PrivateSocket> {
  const directory = await fs.mkdtemp(join(tmpdir(), prefix));
  await fs.chmod(directory, 0o700);
  const path = join(directory, 'probe.sock');
  const server = net.createServer();
  let connection: HelperStream | null = null;
  let closed = false;
  const waiters: Array<{ resolve: (s: HelperStream) => void; reject: (e: Error) => void }> = [];

  server.on('connection', (socket) => {
    if (connection) {
      connection.addConnection(socket);
      return;
    }
    const stream = new HelperStream(socket);
    connection = stream;
    // The session's records end when the helper is done: no connection after that is its.
    stream.once('close', () => server.close());
    for (const w of waiters.splice(0)) w.resolve(stream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await fs.chmod(path, 0o600);

  return {
    directory,
    path,
    waitForConnection(timeoutMs?: number): Promise<HelperStream> {
      if (connection) return Promise.resolve(connection);
      if (closed) return Promise.reject(new Error('the probe socket is closed'));
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (s: HelperStream) => {
            if (timer) clearTimeout(timer);
            resolve(s);
          },
          reject: (e: Error) => {
            if (timer) clearTimeout(timer);
            reject(e);
          },
        };
        const timer = timeoutMs === undefined ? null : setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`the helper did not connect within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const w of waiters.splice(0)) w.reject(new Error('the probe session was closed'));
      server.close();
      (connection as HelperStream | null)?.destroy();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
