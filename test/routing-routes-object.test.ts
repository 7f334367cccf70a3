/**
 * `new RouteMap(routes)` takes a plain object from endpoint name to pattern, and refuses
 * anything else with a `TypeError` that says what to write: `null` threw JavaScript's own
 * `Cannot convert undefined or null to object`, a string `'/a'` was taken as one endpoint per
 * character (`route pattern must start with '/': "a" (1)`), an array of patterns made endpoints
 * named `'0'`, `'1'`…, and a `Map` made a map without a single route, answering 404 to everything.
 */
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

const SHAPE = /^new RouteMap: the routes are an object from endpoint name to pattern \(\{ home: '\/', item: '\/items\/<int:id>' \}\), not /;

describe('new RouteMap(routes)', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['/a', 'a string'],
    [['/a', '/b'], 'an array'],
    [new Map([['home', '/']]), 'a Map object'],
    [() => '/', 'a function'],
  ])('refuses %j, saying it is %s', (routes, kind) => {
    const make = () => new RouteMap(routes as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`${SHAPE.source}${kind}$`));
  });

  it('takes a plain object, or one without a prototype, as before', async () => {
    const routes = new RouteMap({ home: '/', item: '/items/<int:id>' });
    const bare = new RouteMap(Object.assign(Object.create(null) as Record<string, string>, { home: '/' }));
    const client = new TestClient(routes.app({ home: () => new Response('home'), item: (_req, { id }) => new Response(String(id)) }));
    expect((await client.get('/items/7')).textBody).toBe('7');
    expect(bare.build('home')).toBe('/');
  });

  it("takes a class's instance holding its routes as own fields, as before the check, and refuses Object.create(base), whose routes are inherited", async () => {
    class Routes {
      home = '/';
      item = '/items/<int:id>';
    }
    // A JavaScript caller's map: TypeScript asks a class for an index signature, hence the cast.
    const routes = new RouteMap(new Routes() as unknown as { home: '/'; item: '/items/<int:id>' });
    const client = new TestClient(routes.app({ home: () => new Response('home'), item: (_req, { id }) => new Response(`item ${id}`) }));
    expect((await client.get('/items/7')).textBody).toBe('item 7');
    expect(routes.build('item', { id: 3 })).toBe('/items/3');
    expect(() => new RouteMap(Object.create({ home: '/' }) as { home: string })).toThrow(/not an object inheriting from another \(Object\.create\(base\)\)/);
  });
});
