/**
 * Iterating a `HeaderList` (`for…of`, `entries()`, spreading) walks the pairs as they were when
 * the loop began, as `MultiDict`'s iteration does: deleting in the loop skipped the field after
 * each one deleted (`X-Internal-B` left in the answer), and adding in the loop never ended.
 * Over a socket: a middleware stripping internal fields strips them all.
 */
import { describe, expect, it } from 'vitest';
import { HeaderList, Request, Response, defineMiddleware, serve } from 'tsgi';

describe('HeaderList iteration', () => {
  it('deleting every field in the loop deletes them all', () => {
    const headers = new HeaderList([['X-A', '1'], ['X-B', '2'], ['X-C', '3']]);
    for (const [name] of headers) headers.delete(name);
    expect(headers.size).toBe(0);
  });

  it('adding in the loop visits the fields there when it began, and ends', () => {
    const headers = new HeaderList([['Vary', 'Accept'], ['Link', '</a>']]);
    const seen: string[] = [];
    for (const [name, value] of headers.entries()) {
      seen.push(name);
      if (seen.length > 10) break;
      headers.add(name, value);
    }
    expect(seen).toEqual(['Vary', 'Link']);
    expect(headers.size).toBe(4);
  });

  it('a pair changed in the loop changes nothing in the list (it is checked on set)', () => {
    const headers = new HeaderList([['X-A', '1']]);
    for (const pair of headers) pair[1] = 'a\r\nX-Evil: 1';
    expect(headers.get('X-A')).toBe('1');
  });

  it('a middleware deleting internal fields while iterating deletes every one, over a socket', async () => {
    const inner = Request.application(() => new Response('ok', { headers: [['X-Internal-A', '1'], ['X-Internal-B', '2'], ['X-Public', '3'], ['X-Internal-C', '4']] }));
    const stripInternal = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      for (const [name] of res.headers) if (name.toLowerCase().startsWith('x-internal-')) res.headers.delete(name);
      return res;
    });
    const app = stripInternal(inner);
    const server = await serve(app, { port: 0, host: '127.0.0.1' });
    try {
      const answer = await fetch(`${server.url}/`);
      expect(await answer.text()).toBe('ok');
      expect([...answer.headers.keys()].filter((name) => name.startsWith('x-'))).toEqual(['x-public']);
    } finally {
      await server.close();
    }
  });
});
