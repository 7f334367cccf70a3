/**
 * tsgi/routing: a rule that matches the same requests as one before it, for a method both
 * answer (Werkzeug 3.2's `DuplicateRuleError`), is a `TypeError` from `new RouteMap`: the
 * first always answered, so the second never did (`{ list: '/items', create: '/items' }`, its
 * `methods` forgotten: every POST a 405, the create handler never called).
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

describe('a rule matching what one before it does', () => {
  it('is refused, naming both rules and the methods they share', () => {
    expect(() => new RouteMap({ list: '/items', create: '/items' })).toThrow(
      new TypeError('new RouteMap: create (/items) matches the requests list (/items) does, for GET: it would never answer them (give the rules other methods, or remove one)'),
    );
    // Another placeholder name, the same converter: the same requests.
    expect(() => new RouteMap({ byId: '/u/<id>', byName: '/u/<name>' })).toThrow(/byName \(\/u\/<name>\) matches the requests byId \(\/u\/<id>\) does, for GET/);
    // Within one endpoint, a pattern's // merged, a host in another case, a path placeholder.
    expect(() => new RouteMap({ a: ['/x/<int:id>', '/x/<int:id>'] })).toThrow(/a \(\/x\/<int:id>\) matches the requests a \(\/x\/<int:id>\) does/);
    expect(() => new RouteMap({ a: '/a/b', b: '/a//b' })).toThrow(/b \(\/a\/\/b\) matches the requests a \(\/a\/b\) does/);
    expect(() => new RouteMap({ a: { path: '/', host: 'API.example.com' }, b: { path: '/', host: 'api.example.com' } })).toThrow(/b \(\/\) matches the requests a \(\/\) does/);
    expect(() => new RouteMap({ a: '/f/<path:p>', b: '/f/<path:rest>' })).toThrow(/b \(\/f\/<path:rest>\) matches the requests a/);
    // Methods in part shared: the second rule's GET would never answer.
    expect(() => new RouteMap({ show: '/n/<int:id>', edit: { path: '/n/<int:id>', methods: ['GET', 'PUT'] } })).toThrow(/edit .* for GET: it would never answer/);
  });

  it('takes rules that differ in methods, converters, host, or what a path placeholder is followed by', () => {
    expect(
      () =>
        new RouteMap({
          list: '/items',
          create: { path: '/items', methods: ['POST'] },
          head: { path: '/items', methods: ['HEAD'] },
          preflight: { path: '/items', methods: ['OPTIONS'] },
          num: '/x/<int:id>',
          bounded: '/x/<int(min=1):id>',
          word: '/x/<id>',
          api: { path: '/x/<id>', host: 'api.example.com' },
          file: '/f/<path:p>',
          text: '/f/<path:p>.txt',
          raw: { path: '/a//b', mergeSlashes: false },
          merged: '/a/b',
          strict: '/s',
          loose: { path: '/s', strictSlashes: false },
        }),
    ).not.toThrow();
  });

  it('serves the two rules once their methods are given, over a socket', async () => {
    const routes = new RouteMap({ list: '/items', create: { path: '/items', methods: ['POST'] } });
    const server = await start(routes.app({ list: () => 'list', create: () => 'created' }));
    expect((await request(`${server.url}/items`)).body.toString()).toBe('list');
    expect((await request(`${server.url}/items`, { method: 'POST' })).body.toString()).toBe('created');
  });
});
