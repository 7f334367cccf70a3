/**
 * tsgi/routing: a placeholder matches every character a decoded `PATH_INFO` may hold, line
 * breaks included (`%0A`, `%0D`, `%E2%80%A8`), as `build` writes them: the `path` converter's
 * `.` and a custom converter's did not, so such a URL answered 404 and a built one led nowhere.
 */
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { type Converter, RouteMap } from 'tsgi/routing';
import { start } from './node-helpers.ts';

const line: Converter<string> = { regex: '.+', toValue: (text) => text, toUrl: (value) => value };
const routes = new RouteMap({ file: '/files/<path:rest>', info: '/files/<path:rest>/info', note: '/notes/<line:text>' }, { converters: { line } });
const app = routes.app({
  file: (_req, { rest }, urls) => Response.json({ rest, url: urls.build('file', { rest }) }),
  info: (_req, { rest }) => Response.json({ info: rest }),
  note: (_req, { text }, urls) => Response.json({ text, url: urls.build('note', { text }) }),
});

describe('line breaks in a placeholder', () => {
  it('matches them over a socket, and builds the URL back', async () => {
    const server = await start(app);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      expect(res.status).toBe(200);
      return res.json();
    };
    expect(await get('/files/a%0Ab/c%0D.txt')).toEqual({ rest: 'a\nb/c\r.txt', url: '/files/a%0Ab/c%0D.txt' });
    expect(await get('/files/x%E2%80%A8y/info')).toEqual({ info: 'x\u2028y' });
    expect(await get('/notes/one%0Atwo')).toEqual({ text: 'one\ntwo', url: '/notes/one%0Atwo' });
    expect(server.log.text).toBe('');
  });

  it('refuses a "/" in the value of a converter that does not cross slashes: %2F decodes to "/", so the URL led elsewhere', () => {
    const notes = new RouteMap({ note: '/notes/<line:text>', edit: '/notes/<text>/edit' }, { converters: { line } });
    // It wrote /notes/a%2Fedit, whose PATH_INFO /notes/a/edit is the edit rule's.
    expect(() => notes.build('note', { text: 'a/edit' })).toThrow(new TypeError('note (/notes/<line:text>): <text>: "a/edit" holds a "/", which its converter does not cross (PATH_INFO decodes %2F to "/")'));
    expect(() => notes.bind({ PATH_INFO: '/', REQUEST_METHOD: 'GET' } as never).build('note', { text: '/' })).toThrow(TypeError);
    expect(notes.build('note', { text: 'a b\nc' })).toBe('/notes/a%20b%0Ac');
    expect(routes.build('file', { rest: 'a/b' })).toBe('/files/a/b');
  });

  it('matches back every URL build writes', () => {
    for (const rest of ['a\nb', '\r\n', 'x/\u2028/y']) {
      expect(routes.lookup('GET', decodeURIComponent(routes.build('file', { rest })))).toMatchObject({ kind: 'match', values: { rest } });
    }
  });
});
