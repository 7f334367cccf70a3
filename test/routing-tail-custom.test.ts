/**
 * tsgi/routing: after a `path` placeholder, a custom converter that does not cross slashes
 * takes no `/`, even when its regex would (`.+`, as `Converter.regex` says: it cannot match
 * `/` unless `crossesSlashes` is set). It took one (`/files/a/b/c.txt` gave `dir` = `a` and
 * `file` = `b/c.txt`), a value `build` refuses, so a handler building its own URL answered
 * 500; and `build` refused every `dir` holding a `/` (`a/b`), read back split that way.
 */
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { type Converter, RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

/** Any text, as the docs' `.+` example: one segment, as it does not cross slashes. */
const name: Converter<string> = { regex: '.+', toValue: (text) => text, toUrl: (value) => value };
/** A word without dots (`[^.]+` would take a `/` too). */
const stem: Converter<string> = { regex: '[^.]+', toValue: (text) => text, toUrl: (value) => value };

const routes = new RouteMap(
  {
    file: '/files/<path:dir>/<name:file>',
    doc: '/docs/<path:dir>/<stem:page>.html',
    edit: '/edit/<path:dir>/<name:file>/edit',
  },
  { converters: { name, stem } },
);

describe('a custom converter after a path placeholder', () => {
  it('matches one segment, the path placeholder taking the rest', () => {
    expect(routes.lookup('GET', '/files/a/b/c.txt')).toMatchObject({ kind: 'match', values: { dir: 'a/b', file: 'c.txt' } });
    expect(routes.lookup('GET', '/files/a/b')).toMatchObject({ kind: 'match', values: { dir: 'a', file: 'b' } });
    expect(routes.lookup('GET', '/docs/a/b/c.html')).toMatchObject({ kind: 'match', values: { dir: 'a/b', page: 'c' } });
    expect(routes.lookup('GET', '/edit/a/b/c/edit')).toMatchObject({ kind: 'match', values: { dir: 'a/b', file: 'c' } });
    // The converter's own regex still decides: a stem holds no dot.
    expect(routes.lookup('GET', '/docs/a/b.c.html')).toEqual({ kind: 'none' });
  });

  it('builds a path value holding a slash, and the URL matches back', () => {
    expect(routes.build('file', { dir: 'a/b', file: 'c.txt' })).toBe('/files/a/b/c.txt');
    expect(routes.build('doc', { dir: 'x/y/z', page: 'p' })).toBe('/docs/x/y/z/p.html');
    expect(() => routes.build('file', { dir: 'a', file: 'b/c' })).toThrow(/holds a "\/", which its converter does not cross/);
  });

  it('answers a handler building its own URL over a socket, not a 500', async () => {
    const server = await start(routes.app({ file: (_req, values, urls) => Response.json({ values, self: urls.build('file', values) }), doc: () => 'doc', edit: () => 'edit' }));
    const res = await request(`${server.url}/files/a/b/c.txt`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ values: { dir: 'a/b', file: 'c.txt' }, self: '/files/a/b/c.txt' });
    expect(server.log.text).toBe('');
  });
});
