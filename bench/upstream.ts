/**
 * The upstream of the proxy benchmark (`--targets proxy`, bench/proxy-targets.ts): a plain
 * node:http server in its own process, so its work is not counted against the proxies.
 * `GET /` answers `Hello, World!` (text/plain, 13 bytes), `GET /1mib` answers {@link BIG_SIZE}
 * bytes of {@link bigBody} (application/octet-stream); both with Content-Length. `POST /upload`
 * reads the body and answers how many bytes arrived (for bench/proxy-memory.ts).
 *
 * Started by `fork()`: sends `{ port }` once it listens, answers `{ type: 'probe' }` with its
 * CPU time (`{ cpu }`, µs), and exits when its parent goes away.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The size of the large answer: 1 MiB. */
export const BIG_SIZE = 1024 * 1024;

/** The large answer: byte i is i mod 251. */
export function bigBody(size = BIG_SIZE): Buffer {
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) body[i] = i % 251;
  return body;
}

/**
 * Writes `size` bytes, `block` after `block` (the last one cut short), to `out` with
 * backpressure (waiting for 'drain' whenever `write` answers false), then ends it.
 */
export function writeBytes(out: { write(chunk: Uint8Array): boolean; once(event: 'drain', listener: () => void): unknown; end(): unknown }, size: number, block: Uint8Array): void {
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const piece = block.subarray(0, Math.min(block.length, size - sent));
      sent += piece.length;
      if (!out.write(piece)) return void out.once('drain', pump);
    }
    out.end();
  };
  pump();
}

// Only when forked as a script: importing this module (for bigBody) starts nothing.
if (import.meta.main && process.send) {
  const hello = Buffer.from('Hello, World!');
  const big = bigBody();
  const server = http.createServer((req, res) => {
    if (req.url === '/1mib') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      res.end(big);
    } else if (req.url === '/upload') {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => res.end(String(size)));
    } else if (req.url?.startsWith('/download?size=')) {
      const size = Number(req.url.slice('/download?size='.length));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      writeBytes(res, size, bigBody(251 * 256));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': hello.length });
      res.end(hello);
    }
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.once('disconnect', () => process.exit(0));
  process.on('message', (message: { type?: string }) => {
    if (message?.type !== 'probe') return;
    const { user, system } = process.cpuUsage();
    process.send!({ cpu: user + system });
  });
}
