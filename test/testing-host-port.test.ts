/**
 * A call sent with a `Host` field (or an `HTTP_HOST` in its `environ`) is at that host, as the
 * app sees it: a `Host` without a port names the scheme's default port, so `res.url` (where the
 * page's links and forms resolve, and a relative `Location`) is the URL the app builds, not one
 * at the base URL's port.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { serveForSuite } from './node-helpers.ts';

/** Says at which URL it was asked; `/rel` redirects to `next`, a relative Location as a raw app may send it. */
const app: App = (environ, startResponse) => {
  if (environ.PATH_INFO === '/rel') {
    startResponse('302 Found', [['Location', 'next'], ['Content-Length', '0']]);
    return [];
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(`${environ['tsgi.url_scheme']}://${environ.HTTP_HOST}${environ.REQUEST_URI}`)];
};

const served = serveForSuite(app);

/** The app's answer to `GET path` with `Host: host` over the socket. */
function overSocket(path: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: served.port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
    }).on('error', reject).end();
  });
}

describe('a Host without a port', () => {
  it('puts res.url at the default port, where the app sees the request', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${served.port}` });
    const seen = await overSocket('/page', 'app.example');
    expect(seen).toBe('http://app.example/page');
    expect((await client.get('/page', { headers: { host: 'app.example' } })).url).toBe(seen);
    expect((await client.get('/page', { environ: { HTTP_HOST: 'app.example' } })).url).toBe(seen);
  });

  it('resolves a relative Location there', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${served.port}` });
    const res = await client.get('/rel', { headers: { host: 'app.example' }, followRedirects: 1 });
    expect(res.url).toBe('http://app.example/next');
    expect(res.textBody).toBe(await overSocket('/next', 'app.example'));
  });

  it('keeps the port a Host names', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${served.port}` });
    expect((await client.get('/page', { headers: { host: 'app.example:8080' } })).url).toBe(await overSocket('/page', 'app.example:8080'));
  });
});
