/**
 * `lint`'s report of a body abandoned (garbage-collected while neither iterated to its end nor
 * closed) is a `tsgi.errors` line about a request, so it names the request and carries its
 * `request_id=…`, as every other such line does (`logRequestError`): the id the answer's
 * `X-Request-Id` carried finds it.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { lint, requestId } from 'tsgi/middleware';
import { gc } from './gc.ts';
import { bytes, sleep, start } from './node-helpers.ts';

describe("lint's abandoned-body line, over a real socket", () => {
  for (const where of ['outside', 'below'] as const) {
    it(`names the request and carries its request_id (requestId ${where} lint)`, async () => {
      const app: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return (async function* () {
          yield bytes('never read');
        })();
      };
      // A layer that drops the linted body without closing it: lint's breach to report.
      const dropping =
        (inner: App): App =>
        async (environ, startResponse) => {
          await inner(environ, startResponse);
          return [bytes('dropped')];
        };
      const server = await start(where === 'outside' ? requestId(dropping(lint(app))) : dropping(lint(requestId(app))));
      const res = await fetch(`http://127.0.0.1:${server.port}/path?q=1`);
      expect(await res.text()).toBe('dropped');
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(/\S/);
      for (let i = 0; i < 50 && !server.log.text.includes('abandoned'); i++) {
        gc();
        await sleep(10);
      }
      expect(server.log.text).toBe(
        `[tsgi] GET /path?q=1 HTTP/1.1 request_id=${id}: lint: the body must be iterated to the end or closed with return() (abandoned: GET /path)\n`,
      );
    });
  }
});
