/**
 * A layer that takes the app's first step itself (`compress`, `timeout`, `etag`, the body
 * filters `rewriteHtml`, `replaceText`, `decodeContent`, `cascade`) is not there for a body that fails at
 * that step: with no `errors` layer, the client gets what the server answers without the layer
 * (its 500, or the exception's answer), with the held head's fields of no representation and
 * `requestId`'s id, and the same log line. Under `serve()` over a real socket, `toFetchHandler`
 * (served by `@hono/node-server`) and the `TestClient`.
 */
import { describe, expect, it } from 'vitest';
import { type App, HTTPBadGateway } from 'tsgi';
import { cascade, compress, etag, requestId, timeout } from 'tsgi/middleware';
import { decodeContent, replaceText, rewriteHtml } from 'tsgi/proxy';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { errorLog, request, start } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

/** What a client got: status, fields (lower-case names, repeats joined), body, first log lines. */
interface Got {
  status: number;
  headers: Record<string, string>;
  body: string;
  log: string[];
}

/** A browser asking for a page it takes compressed. */
const ASKED = { Accept: 'text/html', 'Accept-Encoding': 'gzip' };

/** Fields every server adds (framing and date): not the app's. */
const SERVER_OWN = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function fieldsOf(pairs: Iterable<readonly [string, string]>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (SERVER_OWN.has(key)) continue;
    fields[key] = key in fields ? `${fields[key]}, ${value}` : value;
  }
  return fields;
}

/** The first line of each log message (the stacks name the layers' frames). */
const firstLines = (messages: string[]): string[] => messages.map((message) => message.split('\n')[0]!);

async function overSocket(url: string, messages: () => string[]): Promise<Got> {
  const res = await request(url, { headers: ASKED });
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
  return { status: res.status, headers: fieldsOf(pairs), body: res.body.toString(), log: firstLines(messages()) };
}

const holders: Array<[string, (app: App) => Promise<Got>]> = [
  [
    'serve()',
    async (app) => {
      const server = await start(app);
      return overSocket(`${server.url}/page`, () => server.log.messages);
    },
  ],
  [
    'toFetchHandler',
    async (app) => {
      const log = errorLog();
      const server = await serveFetch(toFetchHandler(app, { log }));
      try {
        return await overSocket(`${server.url}/page`, () => log.messages);
      } finally {
        await server.close();
      }
    },
  ],
  [
    'TestClient',
    async (app) => {
      const log = errorLog();
      const client = new TestClient(app, { lint: false, allowErrors: true, status: '*' });
      const res = await client.get('/page', { headers: ASKED, environ: { 'tsgi.errors': log } });
      return { status: res.statusCode, headers: fieldsOf(res.headers), body: res.textBody, log: firstLines(log.messages) };
    },
  ],
];

/** The layers that take the first step themselves (`cascade` of the apps before its last). */
const layers: Array<[string, (app: App) => App]> = [
  ['compress', (app) => compress(app, { threshold: 0 })],
  ['timeout', (app) => timeout(app, { ms: 60_000 })],
  ['etag', (app) => etag(app)],
  ['rewriteHtml', (app) => rewriteHtml(app, { elements: { p: (el) => void el.setAttribute('class', 'x') } })],
  ['replaceText', (app) => replaceText(app, { replacements: [['old', 'new']] })],
  ['decodeContent', (app) => decodeContent(app)],
  // Not its last app: cascade takes its first step, to see whether its status is skipped.
  ['cascade', (app) => cascade([app, () => [new TextEncoder().encode('fallback')]])],
];

/** A page's head: fields of its representation, and fields of none. */
const HEAD: ReadonlyArray<[string, string]> = [
  ['Content-Type', 'text/html; charset=utf-8'],
  ['ETag', '"v1"'],
  ['Set-Cookie', 'seen=1; Path=/'],
  ['Access-Control-Allow-Origin', 'http://app.example'],
  ['Vary', 'Cookie'],
  ['X-Tenant', 'acme'],
];

/** Apps that give {@link HEAD}, then a body that throws before its first chunk. */
const apps: Array<[string, (error: () => Error) => App]> = [
  [
    'the head given before the body',
    (error) => (_environ, startResponse) => {
      startResponse('200 OK', [...HEAD]);
      return (async function* () {
        yield* [];
        throw error();
      })();
    },
  ],
  [
    'the head given from the body (a lazy start)',
    (error) => (_environ, startResponse) =>
      (async function* () {
        startResponse('200 OK', [...HEAD]);
        yield* [];
        throw error();
      })(),
  ],
];

const failures: Array<[string, () => Error, number]> = [
  ['an Error', () => new Error('the cursor broke'), 500],
  ['an HTTPBadGateway', () => new HTTPBadGateway('the upstream left'), 502],
];

/** Under requestId, with a known id: the log lines and the fields can be compared. */
const site = (app: App): App => requestId(app, { generate: () => 'req-7' });

describe('a body that fails at its first step under a layer that takes that step, no errors layer', () => {
  for (const [holder, get] of holders) {
    for (const [given, failsFirst] of apps) {
      for (const [what, error, status] of failures) {
        it(`gets the server's answer with the held head's fields, ${given}, for ${what} (${holder})`, async () => {
          // requestId takes the first step of a lazy start itself (to add its field to the head).
          const bare = await get(site(failsFirst(error)));
          expect(bare.status).toBe(status);
          expect(bare.headers['x-request-id']).toBe('req-7');
          expect(bare.headers['x-tenant']).toBe('acme');
          expect(bare.headers['access-control-allow-origin']).toBe('http://app.example');
          expect(bare.headers.vary).toContain('Cookie');
          expect(bare.headers.etag).toBeUndefined();
          expect(bare.headers['set-cookie']).toBeUndefined();
          expect(bare.log).toHaveLength(1);
          // An escaped HTTPException's line names the status answered; the server's own 500's does not.
          const answered = status === 500 ? '' : ` ${status}`;
          expect(bare.log[0]).toMatch(new RegExp(`^\\[tsgi\\] GET /page HTTP/1\\.1${answered} request_id=req-7: `));
        });

        for (const [name, layer] of layers) {
          it(`gets the same answer under ${name} as without it, ${given}, for ${what} (${holder})`, async () => {
            const bare = await get(site(failsFirst(error)));
            const got = await get(site(layer(failsFirst(error))));
            expect(got).toEqual(bare);
          });
        }
      }
    }
  }
});
