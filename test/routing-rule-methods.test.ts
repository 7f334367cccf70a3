/**
 * tsgi/routing: a rule's `methods` is a non-empty array of method names. An empty array made a
 * rule that answered no request (every method a 405 with `Allow: OPTIONS`); a string (`'POST'`,
 * from JavaScript or a config file) or a name that is no string crashed inside `new RouteMap`
 * with a message naming neither the rule nor the option (`….map is not a function`), where
 * Werkzeug says "'methods' should be a list of strings".
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

describe("a rule's methods", () => {
  it('refuses an empty array: the rule would answer no method', () => {
    expect(() => new RouteMap({ a: { path: '/a', methods: [] } })).toThrow(
      new TypeError('new RouteMap: the rule of "a": methods must be a non-empty array of method names (as [\'GET\', \'POST\']), not [], which answers no request'),
    );
    expect(() => new RouteMap({ a: ['/a', { path: '/a/', methods: [] }] })).toThrow(/the rule of "a": methods must be a non-empty array/);
  });

  it('refuses a string or a name that is no string, naming the rule', () => {
    expect(() => new RouteMap({ a: { path: '/a', methods: 'POST' as never } })).toThrow(
      new TypeError('new RouteMap: the rule of "a": methods must be a non-empty array of method names (as [\'GET\', \'POST\']), not "POST" (a string)'),
    );
    expect(() => new RouteMap({ a: { path: '/a', methods: ['GET', 5] as never } })).toThrow(
      new TypeError('new RouteMap: the rule of "a": methods must be a non-empty array of method names (as [\'GET\', \'POST\']), not an array holding 5'),
    );
    expect(() => new RouteMap({ a: { path: '/a', methods: new Set(['GET']) as never } })).toThrow(/the rule of "a": methods must be a non-empty array of method names/);
  });

  it('still takes an array of names, and a rule without methods answers GET (over a socket)', async () => {
    const routes = new RouteMap({ a: { path: '/a', methods: ['post', 'PUT'] }, b: '/b' });
    const server = await start(routes.app({ a: (req) => req.method, b: () => 'b' }));
    expect((await request(`${server.url}/a`, { method: 'POST' })).body.toString()).toBe('POST');
    const refused = await request(`${server.url}/a`);
    expect(refused.status).toBe(405);
    expect(refused.headers['allow']).toBe('OPTIONS, POST, PUT');
    expect((await request(`${server.url}/b`)).body.toString()).toBe('b');
  });
});
