/**
 * An `async` element handler of `rewriteHtml`: TypeScript lets one through (a function
 * answering a promise is assignable to one answering `void`), as Cloudflare's `HTMLRewriter`,
 * which waits for them, has users write them. The rewriter runs handlers as the tag streams
 * past and cannot wait: such a handler is refused as soon as it answers its promise (the body
 * fails, logged, as for a handler that throws: here at the first chunk, a 500), never left to change a tag already sent (a
 * silent 200 without the edit) or to reject unhandled, which ends the Node process.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { rewriteHtml } from 'tsgi/proxy';
import { rawExchange, start } from './node-helpers.ts';

const page = Request.application(() => new Response('<html><body><a href="/x">x</a><p>end</p></body></html>', { contentType: 'text/html' }));
const later = (): Promise<string> => new Promise((resolve) => setTimeout(() => resolve('late'), 5));

describe('rewriteHtml with an async element handler', () => {
  it('fails the body with a TypeError naming the selector, and leaves no rejection unhandled (socket)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const app = rewriteHtml(page, {
        elements: {
          // Awaits, then fails: its rejection, unhandled, would end the test's process.
          a: async (el) => {
            el.setAttribute('data-x', await later());
            throw new Error('lookup failed');
          },
        },
      });
      const server = await start(app);
      const { raw, clean } = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      // Not the page without the edit: the failure comes at the first chunk, before the head.
      expect(raw).toMatch(/^HTTP\/1\.1 500 /);
      expect(raw).not.toContain('<a href');
      expect(clean).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(server.log.text).toMatch(/TypeError: rewriteHtml: the handler for "a" answered a promise/);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
