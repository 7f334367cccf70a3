/**
 * `rewriteLocation(app, { upstream })` (and `rewriteHtml`'s `upstream`) takes the upstream's URL
 * or a list of them; left out or of another kind, it is a `TypeError` saying what to give, where
 * `rewriteLocation(app, {})` threw JavaScript's own `upstream is not iterable`.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { rewriteHtml, rewriteLocation } from 'tsgi/proxy';
import { TestClient } from 'tsgi/testing';

const SAID = /^upstream is the upstream's URL or a list of its URLs \(\{ upstream: 'http:\/\/127\.0\.0\.1:3000' \}\), not /;
const app: App = Request.application(() => new Response('', { status: 302, headers: { location: 'http://127.0.0.1:3000/next' } }));

describe('the upstream option', () => {
  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [3000, 'a number'],
    [{ url: 'http://127.0.0.1:3000' }, 'an Object object'],
  ])('rewriteLocation refuses %j, saying it is %s', (upstream, kind) => {
    const make = () => rewriteLocation(app, { upstream } as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`${SAID.source}${kind}$`));
  });

  it('rewriteHtml refuses one of another kind, and takes it left out, as before', () => {
    expect(() => rewriteHtml(app, { upstream: 3000 } as never)).toThrow(new RegExp(`${SAID.source}a number$`));
    expect(() => rewriteHtml(app, {})).not.toThrow();
  });

  it('takes a URL, or a list, and maps the Location', async () => {
    for (const upstream of ['http://127.0.0.1:3000', ['http://127.0.0.1:3000', 'http://old.example'], new URL('http://127.0.0.1:3000/')]) {
      const res = await new TestClient(rewriteLocation(app, { upstream })).get('/');
      expect(res.headers.get('location')).toBe('http://localhost/next');
    }
  });
});
