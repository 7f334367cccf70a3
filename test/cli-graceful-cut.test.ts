/**
 * `tsgi serve` cutting the requests still in flight when `--timeout-graceful-shutdown` runs
 * out: the log says so (as it does for a second signal, and the primary of `--workers` for a
 * worker it kills), rather than a clean-looking stop that lost requests.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { appModules, cli, get, keptConnection, servingUrl, waitFor } from './cli-helpers.ts';

const fixture = appModules('tsgi-cli-cut-', {
  'hangs.mjs': `export const app = (environ, start) => {
  if (environ.PATH_INFO === '/hang') {
    process.stdout.write('received /hang\\n');
    return new Promise(() => {});
  }
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};
// A WebSocket whose close handshake the peer never answers: it outlives the graceful time.
export function sockets(req, socket) {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  process.stdout.write('upgraded\\n');
}
`,
});

describe('tsgi serve at the end of the graceful shutdown', () => {
  it('logs the connections it cuts', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    const hung = new Promise<string>((resolve) => {
      http.get(`${url}/hang`, { agent: false }, () => resolve('answered')).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    await waitFor(() => run.out.stdout.includes('received /hang\n'), () => 'the request never arrived');
    run.child.kill('SIGTERM');
    expect(await hung).toBe('ECONNRESET');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe(
      'tsgi: 1 connection still open at the end of the graceful shutdown' +
        ' (--timeout-graceful-shutdown 0.3 s): cutting it, 1 request still being answered\n',
    );
    // The cut request has its access log line, as one the app stopped on tsgi.signal would.
    expect(run.out.stdout).toMatch(/"GET \/hang HTTP\/1\.1" 499 - /);
  });

  it('says no request is being answered on the idle keep-alive connections it closes', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    // Idle after their answer: SIGTERM leaves them to the keep-alive timeout (5 s), past 0.3 s.
    const idle = [await keptConnection(url), await keptConnection(url)];
    for (const connection of idle) expect(await connection.send('/')).toMatch(/^HTTP\/1\.1 200 /);
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe(
      'tsgi: 2 connections still open at the end of the graceful shutdown' +
        ' (--timeout-graceful-shutdown 0.3 s): closing them, no request being answered on them\n',
    );
  });

  it('counts the requests still being answered apart from the idle connections', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    const idle = await keptConnection(url);
    expect(await idle.send('/')).toMatch(/^HTTP\/1\.1 200 /);
    const hung = await keptConnection(url);
    void hung.send('/hang').catch(() => {});
    await waitFor(() => run.out.stdout.includes('received /hang\n'), () => 'the request never arrived');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe(
      'tsgi: 2 connections still open at the end of the graceful shutdown' +
        ' (--timeout-graceful-shutdown 0.3 s): cutting them, 1 request still being answered\n',
    );
  });

  it('counts the upgraded connections (WebSockets) it cuts apart from the idle ones', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--upgrade', 'sockets', '--port', '0', '--timeout-graceful-shutdown', '0.3', '--no-access-log']);
    const url = await servingUrl(run);
    const idle = await keptConnection(url);
    expect(await idle.send('/')).toMatch(/^HTTP\/1\.1 200 /);
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await waitFor(() => run.out.stdout.includes('upgraded\n'), () => 'the upgrade never arrived');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    socket.destroy();
    // Not "no request being answered": the WebSocket's client sees its connection cut (1006).
    expect(run.out.stderr).toBe(
      'tsgi: 2 connections still open at the end of the graceful shutdown' +
        ' (--timeout-graceful-shutdown 0.3 s): cutting them, 1 upgraded (WebSocket)\n',
    );
  });

  it('counts no upgrade the shutdown refuses: one pipelined behind a request still being answered is that request\'s connection', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--upgrade', 'sockets', '--port', '0', '--timeout-graceful-shutdown', '0.3', '--no-access-log']);
    const url = await servingUrl(run);
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('error', () => {});
    // The upgrade waits for the answer ahead of it, then would be refused (503: the shutdown began).
    socket.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\nGET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    await waitFor(() => run.out.stdout.includes('received /hang\n'), () => 'the request never arrived');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    socket.destroy();
    expect(run.out.stdout).not.toContain('upgraded\n');
    expect(run.out.stderr).toBe(
      'tsgi: 1 connection still open at the end of the graceful shutdown' +
        ' (--timeout-graceful-shutdown 0.3 s): cutting it, 1 request still being answered\n',
    );
  });

  it('logs nothing when every request finished in time', async () => {
    const run = cli(['serve', fixture('hangs.mjs'), '--port', '0', '--timeout-graceful-shutdown', '0.3']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).body).toBe('ok');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.out.stderr).toBe('');
  });
});
