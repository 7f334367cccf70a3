/**
 * `rewriteHtml` and `replaceText` are response filters: given where an app goes
 * (`serve(rewriteHtml)`, `mount({ '/x': replaceText })`), they are named as filters with the
 * call to write, when the server or the map is built, not by an options error at each request.
 */
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import { cascade, mount } from 'tsgi/middleware';
import { replaceText, rewriteHtml } from 'tsgi/proxy';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

/** What `serve(app)` does: the message it rejects with, or `'served'` (its server closed again). */
const served = (app: unknown) =>
  serve(app as never, { port: 0 }).then(
    async (handle) => {
      await handle.close();
      return 'served';
    },
    (error: Error) => error.message,
  );

describe('a response filter given where an app goes', () => {
  it('serve(rewriteHtml) and serve(replaceText) reject at once, naming the filter and the call to write', async () => {
    expect(await served(rewriteHtml)).toBe(
      'expected a gateway app: a function or an object with respond() (got rewriteHtml, a response filter, not an app: give it the app whose HTML it rewrites, rewriteHtml(app, { elements: { … } }), as rewriteHtml(proxy(upstream), { … }))',
    );
    expect(await served(replaceText)).toBe(
      'expected a gateway app: a function or an object with respond() (got replaceText, a response filter, not an app: give it the app whose text it replaces, replaceText(app, { replacements: [[from, to]] }), as replaceText(proxy(upstream), { … }))',
    );
  });

  it('mount and cascade refuse it when built', () => {
    expect(() => mount({ '/x': replaceText as never })).toThrow(
      'mount: the value for "/x" is not an app (got replaceText, a response filter, not an app: give it the app whose text it replaces',
    );
    expect(() => mount({ '/x': rewriteHtml as never })).toThrow(/\(got rewriteHtml, a response filter, not an app: /);
    expect(() => cascade([rewriteHtml as never])).toThrow(/\(got rewriteHtml, a response filter, not an app: /);
    expect(() => new TestClient(replaceText as never)).toThrow(/\(got replaceText, a response filter, not an app: /);
  });

  it('called as an app all the same (from a raw app), it says a middleware was served, not that its options are wrong', async () => {
    const filter = rewriteHtml as unknown as App;
    const server = await start((environ, startResponse) => filter(environ, startResponse));
    expect((await request(`${server.url}/`)).status).toBe(500);
    expect(server.log.text).toContain('a middleware served as an app? Give it the app it wraps');
    expect(server.log.text).not.toContain('options object');
  });

  it('still filters the app it is given', async () => {
    const text: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('a cat')];
    };
    const client = new TestClient(replaceText(text, { replacements: [['cat', 'dog']] }));
    expect(await (await client.get('/')).text()).toBe('a dog');
  });
});
