/**
 * A middleware that holds the app's answer and passes its head on closes the app's body when the
 * layer above refuses that head (`lint` outside it: a 401 without a challenge), so the body's
 * `finally` runs and a file or upstream is let go; the client gets the server's 500. So does a
 * `Response` served as an app (a handler's answer), whose `callOnClose` work then runs too.
 */
import { describe, expect, it } from 'vitest';
import { type App, type Middleware, Request, Response, type ResponseInit, defineMiddleware } from 'tsgi';
import { cascade, compress, errors, etag, lint } from 'tsgi/middleware';
import { decodeContent, replaceText, rewriteHtml } from 'tsgi/proxy';
import { sleep, start, within } from './node-helpers.ts';

const enc = new TextEncoder();

/** A 401 without `WWW-Authenticate` (lint refuses it), whose streamed body records its close. */
function unchallenged(type: string, closed: string[]): App {
  return (_environ, startResponse) => {
    startResponse('401 Unauthorized', [['Content-Type', type]]);
    return (async function* () {
      try {
        yield enc.encode('x'.repeat(2000));
        yield enc.encode(' sign in first');
      } finally {
        closed.push('body');
      }
    })();
  };
}

const layers: Array<[string, Middleware<object> | ((app: App) => App), string]> = [
  ['errors', (app: App) => errors(app), 'text/plain'],
  // A 401 is not caught: the answer.
  ['cascade', (app: App) => cascade([app, new Response('never')]), 'text/plain'],
  ['compress', (app: App) => compress(app), 'text/plain'],
  ['etag', (app: App) => etag(app), 'text/plain'],
  ['replaceText', (app: App) => replaceText(app, { replacements: [['x', 'y']] }), 'text/plain'],
  ['rewriteHtml', (app: App) => rewriteHtml(app, { elements: { p: () => {} } }), 'text/html'],
  ['decodeContent', (app: App) => decodeContent(app), 'text/plain'],
];

describe('the app body is closed when the layer above refuses the head', () => {
  it.each(layers)('%s', async (_name, layer, type) => {
    const closed: string[] = [];
    const server = await start(lint((layer as (app: App) => App)(unchallenged(type, closed))));
    try {
      const res = await fetch(`${server.url}/`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(500);
      await res.arrayBuffer();
      expect(await within(() => closed.length > 0, 2000)).toBe(true);
      expect(closed).toEqual(['body']);
    } finally {
      await server.close();
    }
  });
});

describe("a Response's stream is closed, and its callOnClose work run, when the layer above refuses its head", () => {
  /**
   * A `Request.application` answering a 401 without a challenge, streamed (a web stream, whose
   * `cancel` tells its close before its first read, as a file stream's `destroy` closes its
   * file), recording its close and its work.
   */
  function refusedResponse(log: string[], init: ResponseInit = {}): App {
    return Request.application(() => {
      const res = new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(enc.encode('sign in first'));
          },
          cancel() {
            log.push('body');
          },
        }),
        { status: 401, contentType: 'text/plain', ...init },
      );
      res.callOnClose(() => void log.push('work'));
      return res;
    });
  }
  const passing = defineMiddleware(async (req, app) => req.getResponse(app));

  const alone = (app: App): App => app;
  it.each([
    ['GET, returned by the handler', 'GET', {}, alone],
    ['HEAD, returned by the handler', 'HEAD', {}, alone],
    ['GET, a conditional response', 'GET', { conditionalResponse: true }, alone],
    ['GET, passed up by a defineMiddleware layer', 'GET', {}, passing],
  ] as const)('%s', async (_name, method, init, wrap) => {
    const log: string[] = [];
    const server = await start(lint(wrap(refusedResponse(log, init))));
    try {
      const res = await fetch(`${server.url}/`, { method });
      expect(res.status).toBe(500);
      await res.arrayBuffer();
      expect(await within(() => log.length === 2, 2000)).toBe(true);
      await sleep(50); // once each, not again later
      expect(log.sort()).toEqual(['body', 'work']);
      expect(server.log.text).toContain('LintError');
    } finally {
      await server.close();
    }
  });
});
