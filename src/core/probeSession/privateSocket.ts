// The unprivileged end of a probe session: a Unix socket in a private directory (mode 0700, socket 0600)
// that the root helper connects to. Only the user (and root) can reach it.

import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateSocket {
  readonly directory: string;
  readonly path: string;
  /** Resolves with the first (and only) connection; rejects after `timeoutMs` or when closed first. */
  waitForConnection(timeoutMs?: number): Promise<net.Socket>;
  /** Stops listening, closes the connection and removes the directory. Safe to call twice. */
  close(): Promise<void>;
}

export async function createPrivateSocket(prefix = 'bitcoin-usdt-'): Promise<PrivateSocket> {
  const directory = await fs.mkdtemp(join(tmpdir(), prefix));
  await fs.chmod(directory, 0o700);
  const path = join(directory, 'probe.sock');
  const server = net.createServer();
  let connection: net.Socket | null = null;
  let closed = false;
  const waiters: Array<{ resolve: (s: net.Socket) => void; reject: (e: Error) => void }> = [];

  server.on('connection', (socket) => {
    if (connection) {
      socket.destroy();
      return;
    }
    connection = socket;
    server.close();
    for (const w of waiters.splice(0)) w.resolve(socket);
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
    waitForConnection(timeoutMs?: number): Promise<net.Socket> {
      if (connection) return Promise.resolve(connection);
      if (closed) return Promise.reject(new Error('the probe socket is closed'));
      return new Promise((resolve, reject) => {
        const waiter = {
          resolve: (s: net.Socket) => {
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
      (connection as net.Socket | null)?.destroy();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
