/**
 * A Hono user's JSON API ported by docs/hono.md (test/runtimes/scripts/scenario-hono-app.ts:
 * CORS, bearer auth, problem+json errors, ETags, an NDJSON stream) answers the same list of
 * requests, over a real socket on 127.0.0.1, under `serve()` on Node and `toFetchHandler` on
 * `@hono/node-server`, Bun, Deno and workerd. Bun's JSON parser words its complaint its own way,
 * so a 400's body is compared by its status alone.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { type RunningServer, launch, startWorkerd } from './rows.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = 'test/runtimes/scripts/scenario-hono-server.ts';
const bin = (relative: string) => path.join(ROOT, 'node_modules', relative);

const SERVERS: Record<string, () => Promise<RunningServer>> = {
  node: () => launch(process.execPath, ['--conditions=tsgi-source', SCRIPT, 'node']),
  'hono-node': () => launch(process.execPath, ['--conditions=tsgi-source', SCRIPT, 'hono-node']),
  bun: () => launch(bin('.bin/bun'), ['--conditions=tsgi-source', SCRIPT]),
  deno: () => launch(bin('deno/deno'), ['run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', '--unstable-no-legacy-abort', '--conditions=tsgi-source', SCRIPT]),
  workerd: () => startWorkerd(path.join(ROOT, 'test/runtimes/scripts/scenario-hono-worker.ts'), '/api/items'),
};

const FRONT = 'https://front.example';

/** One request's answer: status, the named fields that were sent, and the body's start. */
function ask(origin: string, method: string, target: string, headers: Record<string, string> = {}, body?: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const fields = ['content-type', 'content-length', 'access-control-allow-origin', 'www-authenticate', 'allow', 'content-disposition']
          .filter((name) => res.headers[name] !== undefined)
          .map((name) => `${name}: ${res.headers[name]}`);
        resolve([res.statusCode, ...fields, text.slice(0, 40)].join(' | '));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the start of the NDJSON stream, then leaves; answers what the next request gets. */
async function cancelStream(origin: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: hostname, port, path: '/api/stream', agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
  });
  return ask(origin, 'GET', '/api/items/after');
}

it.each(Object.keys(SERVERS))('answers the ported Hono API the same under %s', async (name) => {
  const server = await SERVERS[name]!();
  try {
    const { origin } = server;
    const json = { 'content-type': 'application/json' };
    const tag = await new Promise<string>((resolve) => http.get(`${origin}/api/items`, (res) => (res.resume(), resolve(String(res.headers.etag)))));
    const answers = [
      await ask(origin, 'OPTIONS', '/api/items', { origin: FRONT, 'access-control-request-method': 'POST' }),
      await ask(origin, 'OPTIONS', '/api/items', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }),
      (await ask(origin, 'POST', '/api/items', json, '{"name":')).slice(0, 30),
      await ask(origin, 'POST', '/api/items', { 'content-type': 'text/plain' }, '{"name":"a"}'),
      await ask(origin, 'POST', '/api/items', json, JSON.stringify({ name: 'x'.repeat(2000) })),
      await ask(origin, 'POST', '/api/items', { ...json, origin: FRONT }, '{"name":"a"}'),
      await ask(origin, 'GET', '/api/secret'),
      await ask(origin, 'GET', '/api/secret', { authorization: 'Bearer good' }),
      await ask(origin, 'GET', '/api/items/%C3%A9t%C3%A9'),
      await ask(origin, 'GET', '/api/items/a%2Fb'),
      await ask(origin, 'GET', '/api/items', { 'if-none-match': tag }),
      await ask(origin, 'HEAD', '/api/items'),
      await ask(origin, 'HEAD', '/api/stream'),
      await ask(origin, 'DELETE', '/api/items'),
      await ask(origin, 'GET', '/api/boom'),
      await ask(origin, 'GET', '/api/report/r%C3%A9sum%C3%A9'),
      await cancelStream(origin),
    ];
    expect(answers).toEqual([
      `204 | access-control-allow-origin: ${FRONT} | `,
      '204 | ',
      '400 | content-type: applicatio',
      '415 | content-type: application/problem+json | content-length: 102 | {"type":"about:blank","title":"Unsupport',
      '413 | content-type: application/problem+json | content-length: 139 | {"type":"about:blank","title":"Content T',
      `201 | content-type: application/json | content-length: 21 | access-control-allow-origin: ${FRONT} | {"id":"2","name":"a"}`,
      '401 | content-type: application/problem+json | content-length: 146 | www-authenticate: Bearer realm="api" | {"type":"about:blank","title":"Unauthori',
      '200 | content-type: application/json | content-length: 15 | {"secret":true}',
      '200 | content-type: application/json | content-length: 14 | {"id":"été"}',
      '404 | content-type: application/problem+json | content-length: 113 | {"type":"about:blank","title":"Not Found',
      '304 | ',
      '200 | content-type: application/json | content-length: 25 | ',
      // No `Content-Length: 0`: the GET answer is a stream of unknown length (RFC 9110 §8.6).
      '200 | content-type: application/x-ndjson | ',
      '405 | content-type: application/problem+json | content-length: 124 | allow: GET, HEAD, OPTIONS, POST | {"type":"about:blank","title":"Method No',
      '500 | content-type: application/problem+json | content-length: 160 | {"type":"about:blank","title":"Internal ',
      `200 | content-type: text/csv; charset=utf-8 | content-length: 4 | content-disposition: attachment; filename=resume.csv; filename*=UTF-8''r%C3%A9sum%C3%A9.csv | a,b\n`,
      '200 | content-type: application/json | content-length: 14 | {"id":"after"}',
    ]);
  } finally {
    await server.stop();
  }
});
