/**
 * tsgi/routing: a `.` or `..` segment, sent as it is or as `%2E%2E` (which `PATH_INFO`
 * decodes), is no value of a placeholder that stays in one segment: `build` refuses such a
 * value (a client resolves the segment away), so a handler building its own URL from what
 * matched answered 500 to a crafted request. It is a 404 (or the next rule); a `path` value
 * still holds `..`, as documented.
 */
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { type Converter, RouteMap } from 'tsgi/routing';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const line: Converter<string> = { regex: '.+', toValue: (text) => text, toUrl: (value) => value };
const routes = new RouteMap(
  {
    item: '/items/<slug>',
    note: '/notes/<line:text>',
    file: '/files/<path:rest>',
    named: '/named/<path:dir>/<name>',
    dots: '/dots/..',
    fallback: '/<path:rest>',
  },
  { converters: { line } },
);
const app = routes.app({
  item: (_req, { slug }, urls) => Response.json({ slug, url: urls.build('item', { slug }) }),
  note: (_req, { text }, urls) => Response.json({ text, url: urls.build('note', { text }) }),
  file: (_req, { rest }) => Response.json({ rest }),
  named: (_req, values, urls) => Response.json({ ...values, url: urls.build('named', values) }),
  dots: () => 'static dots',
  fallback: (_req, { rest }) => Response.json({ fallback: rest }),
});

describe('a dot segment', () => {
  it('is no value of a placeholder in one segment: the next rule answers, else 404 (over a socket)', async () => {
    const server = await start(app);
    const get = async (path: string) => parseRaw((await rawExchange(server.port, rawGet(path))).raw);
    for (const path of ['/items/%2E%2E', '/items/..', '/items/.', '/items/%2e', '/notes/%2E%2E', '/named/a/%2E%2E', '/named/a/b/.']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(JSON.parse(res.rest), path).toEqual({ fallback: path.slice(1).replace(/%2e/gi, '.') });
    }
    expect(JSON.parse((await get('/items/...')).rest)).toEqual({ slug: '...', url: '/items/...' });
    expect(JSON.parse((await get('/items/a.b')).rest)).toEqual({ slug: 'a.b', url: '/items/a.b' });
    expect(JSON.parse((await get('/files/a/%2E%2E/b')).rest)).toEqual({ rest: 'a/../b' });
    expect(JSON.parse((await get('/named/a/b/c')).rest)).toEqual({ dir: 'a/b', name: 'c', url: '/named/a/b/c' });
    expect((await get('/dots/..')).rest).toBe('static dots');
    expect(server.log.text).toBe('');
  });

  it('answers 404 without another rule', () => {
    const only = new RouteMap({ item: '/items/<slug>' });
    expect(only.lookup('GET', '/items/..')).toEqual({ kind: 'none' });
    expect(only.lookup('GET', '/items/.')).toEqual({ kind: 'none' });
    expect(only.lookup('GET', '/items/..x')).toMatchObject({ kind: 'match', values: { slug: '..x' } });
  });
});
