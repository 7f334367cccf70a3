/**
 * tsgi/routing: a path with a trailing slash, for a rule without strict slashes, answers as the
 * path without it: 405 with Allow for another method, 204 with Allow for OPTIONS.
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

const ns = new RouteMap({
  items: { path: '/items', strictSlashes: false },
  item: { path: '/items/<int:id>', strictSlashes: false },
  strict: '/strict',
  mixed: { path: '/mixed', methods: ['POST'], strictSlashes: false },
  mixedStrict: { path: '/mixed', methods: ['PUT'] },
});
const client = new TestClient(ns.app({ items: () => 'items', item: (_req, { id }) => `item ${id}`, strict: () => 'strict', mixed: () => 'mixed', mixedStrict: () => 'put' }));

describe('a trailing slash on a rule without strict slashes', () => {
  it('answers 405 with Allow for a method the rule lacks, as without the slash', async () => {
    for (const path of ['/items', '/items/', '/items/3/']) {
      const res = await client.post(path, { status: 405 });
      expect(res.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
    }
    expect(ns.lookup('POST', '/items/')).toEqual({ kind: 'method', allowed: new Set(['GET', 'HEAD']) });
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await client.options('/items/', { status: 204 });
    expect(res.headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
    expect(ns.bind({ PATH_INFO: '/items/3/', REQUEST_METHOD: 'GET' } as never).allowedMethods()).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('still matches GET, and leaves strict rules out', async () => {
    expect((await client.get('/items/')).textBody).toBe('items');
    expect((await client.get('/items/3/')).textBody).toBe('item 3');
    await client.post('/strict/', { status: 404 });
    await client.options('/strict/', { status: 404 });
    // /mixed/ answers POST (not strict); PUT's rule is strict, so it is not offered there.
    expect((await client.post('/mixed/')).textBody).toBe('mixed');
    const res = await client.get('/mixed/', { status: 405 });
    expect(res.headers.get('Allow')).toBe('OPTIONS, POST');
    expect(ns.lookup('PUT', '/mixed/')).toEqual({ kind: 'method', allowed: new Set(['POST']) });
  });
});

describe('a method only the other form of the path answers', () => {
  const rest = new RouteMap({
    create: { path: '/items', methods: ['POST'] },
    list: '/items/',
    show: '/things/',
    replace: { path: '/things', methods: ['PUT'], strictSlashes: false },
  });
  const api = new TestClient(rest.app({ create: () => 'created', list: () => 'list', show: () => 'show', replace: () => 'replaced' }));

  it('redirects GET /items to /items/ when /items only answers POST (Werkzeug), not 405', async () => {
    const res = await api.get('/items?page=2', { status: 308 });
    expect(res.headers.get('Location')).toBe('http://localhost/items/?page=2');
    expect((await api.post('/items')).textBody).toBe('created');
    expect((await api.get('/items/')).textBody).toBe('list');
    const refused = await api.put('/items', { status: 405 });
    expect(refused.headers.get('Allow')).toBe('OPTIONS, POST');
    expect(rest.lookup('GET', '/items')).toEqual({ kind: 'slash' });
  });

  it('answers PUT /things/ with the rule /things without strict slashes, not 405', async () => {
    expect((await api.put('/things/')).textBody).toBe('replaced');
    expect((await api.get('/things/')).textBody).toBe('show');
    const refused = await api.delete('/things/', { status: 405 });
    // PUT, which /things/ answers through the rule without strict slashes, included (test/routing-allow-loose.test.ts).
    expect(refused.headers.get('Allow')).toBe('GET, HEAD, OPTIONS, PUT');
  });
});
