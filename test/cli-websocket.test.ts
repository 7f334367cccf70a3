/**
 * `tsgi serve --upgrade <export>` with WebSockets: the named export of the app's module
 * becomes `serve()`'s `upgrade` option in each serving process; SIGTERM closes the sockets
 * with 1001. An export is never picked up by its name alone.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import net from 'node:net';
import { ROOT, appModules, cli, get, servingUrl, waitFor } from './cli-helpers.ts';

/** `ws`, by URL: the modules live in a temporary folder, out of reach of node_modules. */
const WS = pathToFileURL(createRequire(import.meta.url).resolve('ws')).href;
/** tsgi's sources, the CLI's own modules (its `HTTPException` class). */
const TSGI = pathToFileURL(join(ROOT, 'src/index.ts')).href;

const module = appModules('tsgi-cli-ws-', {
  'chat.mjs': `import WS from '${WS}';
import { HTTPForbidden } from '${TSGI}';
const wss = new WS.WebSocketServer({ noServer: true });
export const app = (environ, start) => {
  if (environ.PATH_INFO === '/fail') throw new Error('app failed');
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('page')];
};
export function sockets(req, socket, head, context) {
  if (req.url.startsWith('/private')) throw new HTTPForbidden('Members only.');
  if (req.url.startsWith('/boom')) throw new Error('handler failed');
  if (req.url.startsWith('/chat?')) req.url = '/chat';
  if (req.url !== '/chat') return socket.end('HTTP/1.1 404 Not Found\\r\\nConnection: close\\r\\nContent-Length: 0\\r\\n\\r\\n');
  wss.handleUpgrade(req, socket, head, (ws) => {
    context.shutdown.addEventListener('abort', () => ws.close(1001, 'bye'), { once: true });
    ws.on('message', (data) => ws.send('echo ' + data + ' from ' + process.pid));
  });
}
`,
  'view.mjs': `import WS from '${WS}';
import { HTTPForbidden } from '${TSGI}';
const wss = new WS.WebSocketServer({ noServer: true });
export const app = (environ, start) => (start('200 OK', [['Content-Type', 'text/plain']]), [new TextEncoder().encode('page')]);
export function sockets(req, socket, head, { environ }) {
  if (req.url === '/private') throw new HTTPForbidden('Members only.');
  const view = { addr: environ.REMOTE_ADDR, scheme: environ['tsgi.url_scheme'], host: environ.HTTP_HOST, script: environ.SCRIPT_NAME, path: environ.PATH_INFO, peer: req.socket.remoteAddress };
  wss.handleUpgrade(req, socket, head, (ws) => ws.send(JSON.stringify(view)));
}
`,
  'migration.mjs': `export const app = (environ, start) => (start('200 OK', [['Content-Type', 'text/plain']]), [new TextEncoder().encode('page')]);
export function upgrade() {
  console.error('MIGRATION RAN');
  process.exit(42);
}
`,
  'bad.mjs': `export const app = (environ, start) => (start('200 OK', []), []);
export const upgrade = 'ws';
`,
});

/** Sends an upgrade request for `path` on a raw connection to `url` and answers all that comes back. */
function rawUpgrade(url: string, path: string, fields = ''): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: upgrade\r\nUpgrade: websocket\r\n${fields}\r\n`),
    );
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

/** Opens a WebSocket on `url`'s `/chat`, sends `text`, and answers the reply and the socket. */
async function echo(url: string, text: string): Promise<{ reply: string; ws: WebSocket }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/chat`);
  ws.on('error', () => {});
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('unexpected-response', reject)));
  ws.send(text);
  const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
  return { reply: String(message), ws };
}

describe('tsgi serve --upgrade <export>', () => {
  it('hands Upgrade requests to the named export, and closes them with 1001 on SIGTERM', async () => {
    const run = cli(['serve', `${module('chat.mjs')}:app`, '--upgrade', 'sockets', '--port', '0', '--no-access-log']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).body).toBe('page');
    const { reply, ws } = await echo(url, 'hi');
    expect(reply).toMatch(/^echo hi from \d+$/);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const started = Date.now();
    run.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect((await run.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('writes an access log line per upgrade: 101 with its bytes and duration once the WebSocket closes, a refusal at once', async () => {
    const run = cli(['serve', `${module('chat.mjs')}:app`, '--upgrade', 'sockets', '--port', '0']);
    const url = await servingUrl(run);
    const { ws } = await echo(url, 'hi');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Not while the WebSocket is open: nginx logs it when it ends.
    expect(run.out.stdout).not.toContain('/chat');
    ws.close();
    await waitFor(() => run.out.stdout.includes('"GET /chat HTTP/1.1"'), () => `no line for the WebSocket: ${run.out.stdout}`);
    // combined: the status, the bytes after the 101's head (the echo and the close frame).
    expect(run.out.stdout).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/chat HTTP\/1\.1" 101 \d+ "-" "-"$/m);
    // The handler's own refusal.
    expect(await rawUpgrade(url, '/nope')).toMatch(/^HTTP\/1\.1 404 /);
    await waitFor(() => run.out.stdout.includes('"GET /nope HTTP/1.1" 404'), () => `no line for the 404: ${run.out.stdout}`);
    // An HTTPException the handler throws, answered by tsgi: one line, the refused requests' way.
    expect(await rawUpgrade(url, '/private')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*Members only\.\n$/);
    await waitFor(() => run.out.stdout.includes('"GET /private HTTP/1.1" 403 14'), () => `no line for the 403: ${run.out.stdout}`);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(run.out.stdout.match(/"GET \/chat HTTP\/1\.1" 101/g)).toHaveLength(1);
    expect(run.out.stdout.match(/"GET \/private HTTP\/1\.1" 403/g)).toHaveLength(1);
  });

  it('--access-log-redact: the app\'s lines, the refused requests\', the upgrades\' and the error log\'s request lines hide the values', async () => {
    const run = cli([
      'serve', `${module('chat.mjs')}:app`, '--upgrade', 'sockets', '--port', '0', '--access-log-redact', 'token, access_token', '--access-log-redact', 'CODE,my%20key',
    ]);
    const url = await servingUrl(run);
    const { hostname, port } = new URL(url);
    // The app's request, its failure, and a request refused before the app (a bad Host: 400).
    expect((await get(`${url}/?Token=s3cret-1&x=1`)).body).toBe('page');
    // A name the flag gives percent-encoded (it takes no space) matches as sent with + or %20.
    expect((await get(`${url}/?my+key=s3cret-7&MY%20KEY=s3cret-8`)).body).toBe('page');
    expect((await get(`${url}/fail?code=s3cret-2`)).status).toBe(500);
    const refused = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => socket.write('GET /where?%63ode=s3cret-3&flag HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n'));
      let got = '';
      socket.setEncoding('latin1').on('data', (chunk: string) => (got += chunk));
      socket.on('end', () => resolve(got)).on('error', reject);
    });
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
    // An upgrade taken (its line once it closed), one refused by the handler, one whose handler failed.
    const ws = new WebSocket(`${url.replace('http', 'ws')}/chat?access_token=s3cret-4`);
    ws.on('error', () => {});
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('unexpected-response', reject)));
    ws.close();
    expect(await rawUpgrade(url, '/private?token=s3cret-5')).toMatch(/^HTTP\/1\.1 403 /);
    expect(await rawUpgrade(url, '/boom?token=s3cret-6')).toMatch(/^HTTP\/1\.1 500 /);
    await waitFor(() => run.out.stdout.includes('" 101 ') && run.out.stderr.includes('handler failed'), () => `${run.out.stdout}\n${run.out.stderr}`);
    const lines = run.out.stdout;
    expect(lines).toMatch(/"GET \/\?Token=\[Redacted\]&x=1 HTTP\/1\.1" 200 /);
    expect(lines).toMatch(/"GET \/\?my\+key=\[Redacted\]&MY%20KEY=\[Redacted\] HTTP\/1\.1" 200 /);
    expect(lines).toMatch(/"GET \/fail\?code=\[Redacted\] HTTP\/1\.1" 500 /);
    expect(lines).toMatch(/"GET \/where\?%63ode=\[Redacted\]&flag HTTP\/1\.1" 400 /);
    expect(lines).toMatch(/"GET \/chat\?access_token=\[Redacted\] HTTP\/1\.1" 101 /);
    expect(lines).toMatch(/"GET \/private\?token=\[Redacted\] HTTP\/1\.1" 403 /);
    expect(run.out.stderr).toMatch(/^\[tsgi\] GET \/fail\?code=\[Redacted\] HTTP\/1\.1: Error: app failed$/m);
    expect(run.out.stderr).toMatch(/^\[tsgi\] GET \/boom\?token=\[Redacted\] \(upgrade handler\): Error: handler failed$/m);
    expect(`${run.out.stdout}${run.out.stderr}`).not.toContain('s3cret');
  });

  it("gives the handler the app's view under --proxy-headers and --root-path (context.environ), and logs the client's address", async () => {
    const run = cli([
      'serve', `${module('view.mjs')}:app`, '--upgrade', 'sockets', '--port', '0',
      '--proxy-headers', '--forwarded-host', '--root-path', '/app', '--trusted-hosts', 'chat.example,127.0.0.1', '--access-log-format', 'json',
    ]);
    const url = await servingUrl(run, 15_000, 'stderr');
    const forwarded = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'chat.example' };
    const ws = new WebSocket(`${url.replace('http', 'ws')}/chat`, { headers: forwarded });
    ws.on('error', () => {});
    const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
    expect(JSON.parse(String(message))).toEqual({ addr: '203.0.113.9', scheme: 'https', host: 'chat.example', script: '/app', path: '/chat', peer: '127.0.0.1' });
    ws.close();
    await waitFor(() => run.out.stdout.includes('"status":101'), () => `no line for the WebSocket: ${run.out.stdout}`);
    const line = JSON.parse(run.out.stdout.split('\n').find((l) => l.includes('"status":101'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ remote_addr: '203.0.113.9', method: 'GET', url: '/chat', status: 101, outcome: 'end' });
    expect(line.duration_ms).toBeGreaterThan(0);
    expect(line.bytes).toBeGreaterThan(0);
    // A forwarded host outside --trusted-hosts: the app's 400, for the upgrade too, logged at once.
    const refused = new WebSocket(`${url.replace('http', 'ws')}/chat`, { headers: { ...forwarded, 'X-Forwarded-Host': 'evil.example' } });
    refused.on('error', () => {});
    const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode!)));
    expect(status).toBe(400);
    await waitFor(() => run.out.stdout.includes('"status":400'), () => `no line for the 400: ${run.out.stdout}`);
    // The handler's own refusal (an HTTPException, answered by serve()): the client's address, as the 101's line.
    expect(await rawUpgrade(url, '/private', 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Host: chat.example\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    await waitFor(() => run.out.stdout.includes('"status":403'), () => `no line for the 403: ${run.out.stdout}`);
    const lines = run.out.stdout.split('\n').filter((l) => /"status":40[03]/.test(l)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.status, l.remote_addr])).toEqual([[400, '203.0.113.9'], [403, '203.0.113.9']]);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('gives the handler no X-Forwarded-Host without --forwarded-host, and X-Forwarded-Prefix only with --forwarded-prefix', async () => {
    const run = cli(['serve', `${module('view.mjs')}:app`, '--upgrade', 'sockets', '--port', '0', '--no-access-log', '--proxy-headers', '--forwarded-prefix']);
    const url = await servingUrl(run);
    const sent = { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Prefix': '/shop' };
    const ws = new WebSocket(`${url.replace('http', 'ws')}/chat`, { headers: sent });
    ws.on('error', () => {});
    const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
    ws.close();
    expect(JSON.parse(String(message))).toEqual({ addr: '203.0.113.9', scheme: 'https', host: new URL(url).host, script: '/shop', path: '/chat', peer: '127.0.0.1' });
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('serves WebSockets in every worker of --workers 2', async () => {
    const run = cli(['serve', `${module('chat.mjs')}:app`, '--upgrade', 'sockets', '--workers', '2', '--port', '0', '--no-access-log']);
    const url = await servingUrl(run);
    // The primary starts the second worker once the first listens; connections then spread
    // over both (round robin on Linux): one kept open per worker.
    const open = new Map<string, WebSocket>();
    for (let i = 0; i < 100 && open.size < 2; i++) {
      const { reply, ws } = await echo(url, `n${i}`);
      expect(reply).toMatch(new RegExp(`^echo n${i} from \\d+$`));
      const pid = reply.split(' ').at(-1)!;
      if (open.has(pid)) {
        ws.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
      } else open.set(pid, ws);
    }
    expect(open.size).toBe(2);
    const closes = [...open.values()].map((ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))));
    run.child.kill('SIGTERM');
    expect(new Set(await Promise.all(closes))).toEqual(new Set([1001]));
    expect((await run.exited).code).toBe(0);
  });

  it('leaves an export named upgrade alone without --upgrade: the app answers the Upgrade request', async () => {
    const run = cli(['serve', `${module('migration.mjs')}:app`, '--port', '0', '--no-access-log']);
    const url = await servingUrl(run);
    const answer = await get(`${url}/`, { Connection: 'upgrade', Upgrade: 'websocket' });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('page');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(run.out.stderr).not.toContain('MIGRATION RAN');
  });

  it('refuses an --upgrade export that is missing or not a function, as a usage error', async () => {
    const missing = cli(['serve', `${module('chat.mjs')}:app`, '--upgrade', 'chat', '--port', '0']);
    expect((await missing.exited).code).toBe(2);
    expect(missing.out.stderr).toContain("has no export 'chat', which --upgrade hands the Upgrade requests (WebSockets) to (its functions: app, sockets)");
    const bad = cli(['serve', `${module('bad.mjs')}:app`, '--upgrade', 'upgrade', '--port', '0']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.out.stderr).toContain("export 'upgrade' of");
    expect(bad.out.stderr).toContain('is not a function (req, socket, head, context), which --upgrade hands the Upgrade requests (WebSockets) to: got a string');
  });
});
