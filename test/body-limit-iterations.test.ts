/**
 * The server's `maxBodySize` on a body of unknown length (chunked) holds for all the app's
 * reads of `tsgi.input` together: an app that reads the body in several loops (a `for await`
 * left with `break`, then another, each reading on from where the last stopped) is stopped at
 * the limit as one loop is. Each loop was counted from zero, so such an app took a body of any
 * size under `maxBodySize: 10`. Over a real socket with `serve()`.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { bytes, sleep, start } from './node-helpers.ts';

/** A raw app that reads its input one chunk per `for await` loop, until a loop gets nothing; `read()` tells the bytes it took. */
function piecewiseReader(): { app: App; read: () => number } {
  let read = 0;
  const app: App = async (environ, startResponse) => {
    for (;;) {
      let got = false;
      for await (const chunk of environ['tsgi.input']) {
        read += chunk.byteLength;
        got = true;
        break;
      }
      if (!got) break;
    }
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes(`read ${read}`)];
  };
  return { app, read: () => read };
}

describe('maxBodySize across several reads of tsgi.input', () => {
  it('serve(): a chunked body past the limit is refused with 413, however the app loops over it', async () => {
    const { app, read } = piecewiseReader();
    const server = await start(app, { maxBodySize: 10 });
    const socket = net.connect(server.port, '127.0.0.1');
    let raw = '';
    socket.on('data', (data: Buffer) => (raw += data.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n');
    // Chunks apart, so each loop of the app takes one of them.
    for (let i = 0; i < 4 && !socket.destroyed; i++) {
      await sleep(20);
      socket.write('8\r\n12345678\r\n');
    }
    if (!socket.destroyed) socket.write('0\r\n\r\n');
    await closed;
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 413 Content Too Large');
    expect(read()).toBeLessThanOrEqual(10);
    expect(server.log.text).toBe('');
  });

  it('serve(): a chunked body of exactly the limit, read in several loops, passes', async () => {
    const { app } = piecewiseReader();
    const server = await start(app, { maxBodySize: 10 });
    const socket = net.connect(server.port, '127.0.0.1');
    let raw = '';
    socket.on('data', (data: Buffer) => (raw += data.toString('latin1')));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (const piece of ['5\r\n12345\r\n', '5\r\n67890\r\n', '0\r\n\r\n']) {
      await sleep(20);
      socket.write(piece);
    }
    await closed;
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(raw.endsWith('read 10')).toBe(true);
  });
});
