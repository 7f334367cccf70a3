/**
 * An app or body that throws a value nothing can read (a revoked `Proxy`, whose every
 * `instanceof` and property read throws) fails that request alone, as any other error: the
 * server's `500` before the head, a cut after it, the failure logged. Before, the server's own
 * handling of the failure threw on it: the request hung until `close()`, and its rejection went
 * unhandled (which ends a Node process by default).
 */
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { bytes, clientOutcome, sleep, start } from './node-helpers.ts';

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
});
