/**
 * `tsgi serve` with WebSockets: the app module's `upgrade` export, next to the app, becomes
 * `serve()`'s `upgrade` option; SIGTERM closes the sockets with 1001.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { appModules, cli, get, servingUrl } from './cli-helpers.ts';

/** `ws`, by URL: the modules live in a temporary folder, out of reach of node_modules. */
const WS = pathToFileURL(createRequire(import.meta.url).resolve('ws')).href;

const module = appModules('tsgi-cli-ws-', {
  'chat.mjs': `import WS from '${WS}';
const wss = new WS.WebSocketServer({ noServer: true });
export const app = (environ, start) => {
  start('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('page')];
};
export function upgrade(req, socket, head, shutdown) {
  if (req.url !== '/chat') return socket.end('HTTP/1.1 404 Not Found\\r\\nConnection: close\\r\\nContent-Length: 0\\r\\n\\r\\n');
  wss.handleUpgrade(req, socket, head, (ws) => {
    shutdown.addEventListener('abort', () => ws.close(1001, 'bye'), { once: true });
    ws.on('message', (data) => ws.send('echo ' + data));
  });
}
`,
  'bad.mjs': `export const app = (environ, start) => (start('200 OK', []), []);
export const upgrade = 'ws';
`,
});

describe('tsgi serve with an upgrade export', () => {
  it("hands Upgrade requests to the module's upgrade export, and closes them with 1001 on SIGTERM", async () => {
    const run = cli(['serve', `${module('chat.mjs')}:app`, '--port', '0', '--no-access-log']);
    const url = await servingUrl(run);
    expect((await get(`${url}/`)).body).toBe('page');
    const ws = new WebSocket(`${url.replace('http', 'ws')}/chat`, { headers: { Origin: 'http://x' } });
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send('hi');
    const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
    expect(String(message)).toBe('echo hi');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const started = Date.now();
    run.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect((await run.exited).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses an upgrade export that is not a function, as a usage error', async () => {
    const run = cli(['serve', `${module('bad.mjs')}:app`, '--port', '0']);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.out.stderr).toContain("export 'upgrade'");
  });
});
