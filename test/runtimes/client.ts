/**
 * The client side of the conformance suite: requests over node:http and raw sockets, read as
 * far as the server sends them.
 */
import http from 'node:http';
import net from 'node:net';

/** One answer, read whole (or as far as the server sent it). */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** False when the connection ended before the body did (a cut). */
  complete: boolean;
}

/** One request with node:http: our own Host, method, headers and body; never keeps the socket. */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: Uint8Array | string } = {},
): Promise<Reply> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path: pathname + search, method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        done = () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), complete: res.complete });
        res.on('end', done);
        res.on('error', done);
        res.on('aborted', done);
      },
    );
    // Once the answer has begun, a reset is a cut body (complete: false), not a failed request.
    let done: (() => void) | undefined;
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', (error) => (done ? done() : reject(error)));
    req.end(options.body);
  });
}

/** Raw request bytes on a socket: for what node:http would not send (two Cookie fields). */
export function rawRequest(origin: string, text: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const answer = Buffer.concat(chunks).toString('latin1');
      const head = answer.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(answer)?.[1];
      if (head !== -1 && length !== undefined && answer.length >= head + 4 + Number(length)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

export const json = (reply: Reply): Record<string, unknown> => JSON.parse(reply.body) as Record<string, unknown>;

/** Polls `check` until it stops throwing, for up to `ms`. */
export async function eventually(check: () => Promise<void>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * A request head and `size` bytes of body on a raw socket, in 64 KiB writes, whatever the server
 * does meanwhile: what came back (empty when a reset destroyed it) and the socket's error, if
 * any (`EPIPE`, `ECONNRESET` when the server closed before the body was sent).
 */
export function rawUpload(origin: string, head: string, size: number): Promise<{ answer: string; error: string | null }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    let error: string | null = null;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ answer, error }));
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('connect', async () => {
      socket.write(head);
      const chunk = Buffer.alloc(64 * 1024, 97);
      for (let sent = 0; sent < size && !socket.destroyed; sent += chunk.length) {
        if (!socket.write(chunk.subarray(0, Math.min(chunk.length, size - sent)))) {
          await new Promise((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
        }
      }
      if (!socket.destroyed) socket.end();
    });
  });
}
