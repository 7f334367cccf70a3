/**
 * A body that calls `startResponse` itself (a lazy start) and then fails before its first chunk
 * is logged as one whose head was given before the body: the head was held, never written, so
 * the server's error line names the request as for any failure it answers (no status of the
 * app's), and `accessLog`'s line says the status the client got (the server's 500, or the
 * escaped exception's), not the status the app had given. Over a real socket.
 */
import { describe, expect, it } from 'vitest';
import { type App, HTTPBadGateway } from 'tsgi';
import { accessLog, errors } from 'tsgi/middleware';
import { request, start, until } from './node-helpers.ts';

/** Gives `201 Created` with a field of no representation, then fails before its first chunk. */
const apps: Array<[string, (error: () => Error) => App]> = [
  [
    'given before the body',
    (error) => (_environ, startResponse) => {
      startResponse('201 Created', [['X-Tenant', 'acme']]);
      return (async function* () {
        yield* [];
        throw error();
      })();
    },
  ],
  [
    'given from the body (a lazy start)',
    (error) => (_environ, startResponse) =>
      (async function* () {
        startResponse('201 Created', [['X-Tenant', 'acme']]);
        yield* [];
        throw error();
      })(),
  ],
];

const failures: Array<[string, () => Error, number]> = [
  ['an Error', () => new Error('the cursor broke'), 500],
  ['an HTTPBadGateway', () => new HTTPBadGateway('the upstream left'), 502],
];

/** What the client and the logs saw: the status, the held field, the error line, the access line's status. */
async function served(app: App, underErrors: boolean) {
  const access: string[] = [];
  const inner = underErrors ? errors(app) : app;
  const server = await start(accessLog(inner, { log: { write: (line: string) => void access.push(line) }, format: 'common' }));
  const res = await request(`${server.url}/page`);
  await until(() => access.length > 0);
  return {
    status: res.status,
    tenant: res.headers['x-tenant'],
    errorLines: server.log.messages.map((message) => message.split('\n')[0]),
    accessStatus: /" (\d{3}) /.exec(access[0]!)?.[1],
  };
}

describe('a lazy start that fails before its first chunk, over a socket', () => {
  for (const [what, error, status] of failures) {
    for (const underErrors of [false, true]) {
      const layer = underErrors ? 'under errors' : 'with no errors layer';
      it(`logs ${what} as a head given before the body would be, ${layer}`, async () => {
        const [[, eager], [, lazy]] = apps;
        const before = await served(eager!(error), underErrors);
        const got = await served(lazy!(error), underErrors);
        expect(got).toEqual(before);
        expect(got.status).toBe(status);
        // The server's answer keeps the held head's field of no representation (spec §7.4).
        if (!underErrors) expect(got.tenant).toBe('acme');
        expect(got.accessStatus).toBe(String(status));
        expect(got.errorLines).toHaveLength(1);
        // The server names the request; `errors` adds the status it answered, as for any failure,
        // and so does the server for an HTTPException it answers as itself; its own 500 names none.
        const named = underErrors || status !== 500;
        expect(got.errorLines[0]).toMatch(named ? new RegExp(`^\\[tsgi\\] GET /page HTTP/1\\.1 ${status}: `) : /^\[tsgi\] GET \/page HTTP\/1\.1: /);
      });
    }
  }
});
