/**
 * An app or body that throws a value nothing can read (a revoked `Proxy`, whose every
 * `instanceof` and property read throws) fails that request alone, as any other error: the
 * server's `500` before the head, a cut after it, the failure logged. Before, the server's own
 * handling of the failure threw on it: the request hung until `close()`, and its rejection went
 * unhandled (which ends a Node process by default).
 */
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { compress, errors, requestId, timeout } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { bytes, clientOutcome, errorLog, request, sleep, start } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const cases: Array<[string, App, string]> = [
  [
    'the app throws it',
    () => {
      throw revokedProxy();
    },
    'complete 500',
  ],
  [
    'its body throws it before the head went out',
    (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        throw revokedProxy();
      })();
    },
    'complete 500',
  ],
  [
    'its body throws it after the head went out',
    (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield bytes('row 1\n');
        await sleep(20);
        throw revokedProxy();
      })();
    },
    'cut after 200',
  ],
];

describe('a thrown value that cannot be read', () => {
  for (const [name, app, expected] of cases) {
    it(`serve(): ${name}: ${expected}, logged, and the server serves on`, async () => {
      const server = await start((environ, startResponse) => (environ.PATH_INFO === '/ok' ? (startResponse('200 OK', []), [bytes('ok')]) : app(environ, startResponse)));
      try {
        expect(await clientOutcome(`${server.url}/`)).toBe(expected);
        expect(server.log.text).toContain('cannot be read');
        expect(await clientOutcome(`${server.url}/ok`)).toBe('complete 200');
      } finally {
        await server.close();
      }
    });
  }

  // The failures before the head: the answers each entry point gives any thrown error.
  for (const [name, app] of cases.filter(([, , expected]) => expected === 'complete 500')) {
    it(`toFetchHandler: ${name}: its 500, logged`, async () => {
      const log = errorLog();
      const server = await serveFetch(toFetchHandler(app, { log }));
      try {
        const res = await request(`${server.url}/`);
        expect([res.status, res.body.toString()]).toEqual([500, 'Internal Server Error\n']);
        expect(log.text).toContain('cannot be read');
      } finally {
        await server.close();
      }
    });

    it(`errors(): ${name}: its 500 page, the failure logged as such, not as its own handling's TypeError`, async () => {
      const server = await start(errors(app));
      try {
        expect((await request(`${server.url}/`)).status).toBe(500);
        expect(server.log.text).toMatch(/^\[tsgi\] GET \/ HTTP\/1\.1 500: Error: the app threw a value that cannot be read/);
      } finally {
        await server.close();
      }
    });

    it(`TestClient: ${name}: the 500 it answers for any error, not a TypeError of its own`, async () => {
      const client = new TestClient(app, { allowErrors: true });
      const res = await client.get('/', { status: 500 });
      expect(await res.text()).toBe('Internal Server Error\n');
      await expect(new TestClient(app).get('/')).rejects.toThrow(/wrote to tsgi\.errors[\s\S]*cannot be read/);
    });
  }

  // The layers that take the failure on its way (their own checks of it threw on it).
  const layers: Array<[string, (app: App) => App]> = [
    ['compress', (app) => compress(app)],
    ['timeout', (app) => timeout(app, { ms: 5000 })],
    ['requestId', (app) => requestId(app)],
  ];
  for (const [layer, wrap] of layers) {
    it(`${layer}: the app throws it: the server's 500, logged as the app's failure, not the layer's TypeError`, async () => {
      const server = await start(wrap(cases[0]![1]));
      try {
        expect(await clientOutcome(`${server.url}/`)).toBe('complete 500');
        expect(server.log.text).toContain('cannot be read');
        expect(server.log.text).not.toContain('TypeError');
      } finally {
        await server.close();
      }
    });
  }
});

