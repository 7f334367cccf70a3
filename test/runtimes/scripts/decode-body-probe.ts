/**
 * The client of test/runtimes/decode-body.test.ts, run by Node against workerd and inside the
 * Bun and Deno scripts against their own server: sends coded bodies to
 * test/runtimes/scripts/decode-body-app.ts and answers one line per exchange.
 */
import net from 'node:net';
import zlib from 'node:zlib';

/** A line per exchange with the server at `origin`: what it answered, and what it logged. */
export async function probe(origin: string): Promise<string[]> {
  const body = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
  const post = async (path: string, coding: string, bytes: Uint8Array | ReadableStream<Uint8Array>) => {
    const answer = await fetch(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': coding },
      body: bytes,
      duplex: 'half',
      signal: AbortSignal.timeout(10_000),
    } as RequestInit);
    const text = (await answer.text()).trim().split('\n')[0];
    return `${answer.status} ${answer.headers.get('accept-encoding') ?? '-'} ${text}`;
  };
  const gzipped = zlib.gzipSync(body);
  // 60 000 bytes that gzip does not shrink much: several of zlib's 16 KiB chunks each way.
  const noise = Buffer.alloc(60_000);
  for (let i = 0, x = 1; i < noise.length; i++) noise[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const gzippedNoise = zlib.gzipSync(noise);
  /** `bytes` sent chunked, in pieces of `size` bytes a few ms apart. */
  const pieces = (bytes: Uint8Array, size: number) => {
    let at = 0;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= bytes.length) return controller.close();
        await new Promise((resolve) => setTimeout(resolve, 2));
        controller.enqueue(bytes.slice(at, (at += size)));
      },
    });
  };
  const out = [
    `gzip ${await post('/json?token=s3cret&x=1', 'gzip', gzipped)}`,
    `br ${await post('/json', 'br', zlib.brotliCompressSync(body))}`,
    `deflate ${await post('/json', 'deflate', zlib.deflateSync(body))}`,
    `zstd ${typeof zlib.zstdCompressSync === 'function' ? await post('/json', 'zstd', zlib.zstdCompressSync(body)) : 'no encoder here'}`,
    `large ${await post('/size', 'gzip', gzippedNoise)}`,
    `streamed ${await post('/size', 'gzip', pieces(gzippedNoise, 7000))}`,
    `corrupt ${await post('/size', 'gzip', Buffer.from('not gzip at all'))}`,
    `cut ${await post('/size', 'gzip', gzippedNoise.subarray(0, 30_000))}`,
    // 1 MiB of zeros in about 1 kB: past maxSize (64 KiB) once decoded.
    `bomb ${await post('/json', 'gzip', zlib.gzipSync(Buffer.alloc(1024 * 1024)))}`,
    `unknown ${await post('/json', 'compress', gzipped)}`,
    `boom ${(await fetch(`${origin}/boom?token=s3cret`, { signal: AbortSignal.timeout(10_000) })).status}`,
  ];
  // Clients that send part of a body (plain, then gzip) announced as 50 000 bytes and hang up.
  const { hostname, port } = new URL(origin);
  for (const [path, coding, bytes] of [
    ['/cut', '', Buffer.alloc(1000, 120)],
    ['/cut-coded', 'Content-Encoding: gzip\r\n', zlib.gzipSync(Buffer.alloc(3000, 7)).subarray(0, 20)],
  ] as const) {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${coding}Content-Length: 50000\r\n\r\n`);
      socket.write(bytes);
      setTimeout(() => socket.destroy(), 200);
    });
    socket.on('error', () => undefined);
  }
  let logged: string[] = [];
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    logged = (await (await fetch(`${origin}/logged`, { signal: AbortSignal.timeout(10_000) })).text()).split('\n');
    if (logged.filter((line) => line.startsWith('gone ')).length === 2) break;
  }
  const access = JSON.parse(logged[0]!) as { url: string; status: number; body_bytes_read: number };
  out.push(`access ${access.status} ${access.url} ${access.body_bytes_read === gzipped.byteLength ? 'coded length' : access.body_bytes_read}`);
  const gone = logged.filter((line) => line.startsWith('gone ')).sort();
  out.push(...(gone.length === 2 ? gone : ['gone: not two failed reads', ...gone]));
  // The app's reader answered them: no error line for them (an app error would have one).
  out.push(`cut errors ${logged.filter((line) => line.startsWith('[tsgi] POST /cut')).length}`);
  out.push(`error ${logged.find((line) => line.startsWith('[tsgi] GET /boom')) ?? 'none'}`);
  return out;
}
