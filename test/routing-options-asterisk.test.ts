/**
 * `OPTIONS *` (RFC 9110 §9.3.7: a question about the server as a whole, no resource) over a
 * socket, under `serve()`: the environ it makes (`PATH_INFO` and `REQUEST_URI` `*`,
 * `SCRIPT_NAME` `''`, docs/spec.md), a `RouteMap`'s `404` (no rule names the server: see
 * docs/routing.md, where Werkzeug's map reads `*` as the path `/*` instead), and the layers that
 * read `PATH_INFO` (`mount`, `directoryApp`, `proxyFix`, `lint`) taking it without a crash;
 * `directoryApp` and `fileApp` answer it as the map does, never with a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type AppLike, Request, Response, type ServeOptions } from 'tsgi';
import { cascade, directoryApp, fileApp, lint, mount, proxyFix } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

/** `OPTIONS *` over a raw socket to `app` under `serve()`: the answer, and what the server logged. */
async function askServer(app: AppLike, extra = '', options: ServeOptions = {}) {
  const server = await start(app, options);
  try {
    const { raw } = await rawExchange(server.port, `OPTIONS * HTTP/1.1\r\nHost: h.example\r\n${extra}Connection: close\r\n\r\n`);
    return { ...parseRaw(raw), log: server.log.text };
  } finally {
    await server.close();
  }
}

/** Answers, as JSON, the environ keys that say where a request points. */
const where: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  const { REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, REQUEST_URI, QUERY_STRING } = environ;
  return [new TextEncoder().encode(JSON.stringify({ REQUEST_METHOD, SCRIPT_NAME, PATH_INFO, REQUEST_URI, QUERY_STRING, url: new Request(environ).url }))];
};

const hasAllow = (headers: Array<[string, string]>) => headers.some(([name]) => name.toLowerCase() === 'allow');

describe('OPTIONS * under serve()', () => {
  it("reaches the app with PATH_INFO and REQUEST_URI '*' and an empty SCRIPT_NAME, a scriptName option left out", async () => {
    for (const options of [{}, { scriptName: '/api' }]) {
      const res = await askServer(where, '', options);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.rest)).toEqual({ REQUEST_METHOD: 'OPTIONS', SCRIPT_NAME: '', PATH_INFO: '*', REQUEST_URI: '*', QUERY_STRING: '', url: 'http://h.example' });
      expect(res.log).toBe('');
    }
  });

  it('a RouteMap answers it 404 without Allow: no rule names the server, not even one of a placeholder or a catch-all', async () => {
    let called = 0;
    const routes = new RouteMap({
      home: '/',
      page: { path: '/<name>', methods: ['GET', 'OPTIONS'] },
      rest: { path: '/<path:rest>', methods: ['GET', 'POST'] },
    });
    const site = routes.app({
      home: () => (called++, new Response('home')),
      page: () => (called++, new Response('page')),
      rest: () => (called++, new Response('rest')),
    });
    const res = await askServer(site);
    expect(res.status).toBe(404);
    expect(hasAllow(res.headers)).toBe(false);
    expect(called).toBe(0);
    expect(res.log).toBe('');
  });

  it('mount hands it to the root app, unmounted (SCRIPT_NAME stays empty); without one, a 404', async () => {
    const res = await askServer(mount({ '/': where, '/api': where }));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.rest)).toMatchObject({ SCRIPT_NAME: '', PATH_INFO: '*' });
    expect((await askServer(mount({ '/api': where }))).status).toBe(404);
  });

  describe('directoryApp', () => {
    let root: string;
    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), 'tsgi-asterisk-'));
      writeFileSync(join(root, 'index.html'), '<p>index</p>');
      writeFileSync(join(root, '*'), 'a file named *');
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    // The asterisk-form names the server, no resource (RFC 9110 §9.3.7): `*` is never looked
    // up as a file name, even where a file is named `*`. The answer is the map's: 404 without
    // Allow, so `cascade` passes it on to the next app as it passes any path with no file.
    it('answers it 404 without Allow, even where a file is named *: the asterisk-form names no file', async () => {
      const named = await askServer(directoryApp(root));
      expect([named.status, hasAllow(named.headers)]).toEqual([404, false]);
      expect(named.rest).not.toContain('a file named *');
      expect(named.log).toBe('');
      const passed = await askServer(cascade([directoryApp(root), where]));
      expect(passed.status).toBe(200);
      expect(JSON.parse(passed.rest)).toMatchObject({ PATH_INFO: '*', SCRIPT_NAME: '' });
      rmSync(join(root, '*'));
      const none = await askServer(directoryApp(root));
      expect([none.status, hasAllow(none.headers)]).toEqual([404, false]);
      expect(none.log).toBe('');
    });

    it('fileApp serving the whole site answers it 404 without Allow too, not 405', async () => {
      const res = await askServer(fileApp(join(root, 'index.html')));
      expect([res.status, hasAllow(res.headers)]).toEqual([404, false]);
      expect(res.log).toBe('');
    });
  });

  it('proxyFix applies no X-Forwarded-Prefix to it, and keeps the forwarded scheme and host', async () => {
    const res = await askServer(proxyFix(where, { xProto: 1, xHost: 1, xPrefix: 1 }), 'X-Forwarded-Proto: https\r\nX-Forwarded-Host: example.com\r\nX-Forwarded-Prefix: /shop\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.rest)).toMatchObject({ SCRIPT_NAME: '', PATH_INFO: '*', url: 'https://example.com' });
    expect(res.log).toBe('');
  });

  it('lint takes the environ and the answer as they are: no LintError, nothing logged', async () => {
    const res = await askServer(lint(where));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.rest)).toMatchObject({ PATH_INFO: '*', SCRIPT_NAME: '' });
    expect(res.log).toBe('');
  });
});
