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
