/**
 * `req.json({ maxDepth })` over a real socket: a body nested deeper than the limit (default
 * 1000 arrays and objects) is a 400 naming the option, so a value `JSON.stringify` cannot write
 * back (from about 5 000 levels: a 10 KB `[[[…]]]`) never reaches the app; an API that stores
 * what it is posted keeps answering its listing. `Infinity` lifts the limit; brackets inside
 * strings are not counted; a body exactly at the limit is read.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { start } from './node-helpers.ts';

/** `[[…[]…]]`, `depth` arrays deep: `2 × depth` characters. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** How many arrays deep `value` goes, walked without recursion. */
function arrayDepth(value: unknown): number {
  let depth = 0;
  for (let at = value; Array.isArray(at); at = at[0]) depth++;
  return depth;
}

function app() {
  const records: unknown[] = [];
  return Request.application(async (req) => {
    switch (req.pathInfo) {
      case '/records':
        if (req.method === 'POST') {
          records.push(await req.json());
          return new Response(null, { status: 201 });
        }
        return Response.json(records);
      case '/echo':
        return Response.json(await req.json());
      case '/depth':
        return new Response(String(arrayDepth(await req.json({ maxDepth: Number(req.query.get('max') ?? 'NaN') }))));
      case '/unlimited':
        return new Response(String(arrayDepth(await req.json({ maxDepth: Infinity }))));
      case '/option': {
        const maxDepth = JSON.parse(req.query.get('value')!) as number;
        try {
          await req.json({ maxDepth });
          return new Response('taken');
        } catch (error) {
          return new Response(`${(error as Error).name}: ${(error as Error).message}`);
        }
      }
      default:
        return new Response('?', { status: 404 });
    }
  });
}

async function post(url: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  return { status: res.status, body: await res.text() };
}

describe('req.json() refuses a body nested deeper than maxDepth', () => {
  it('answers 400 for a 10 KB [[[…]]] body, naming the option; a store of what is posted keeps answering its listing', async () => {
    const server = await start(app());
    const deep = nested(5000);
    expect(deep).toHaveLength(10_000);
    const echoed = await post(`${server.url}/echo`, deep);
    expect(echoed.status).toBe(400);
    expect(echoed.body).toContain('maxDepth exceeded: the JSON body is nested deeper than 1000 levels');
    expect(echoed.body).toContain('pass req.json({ maxDepth }) to raise it');
    expect((await post(`${server.url}/records`, '{"title":"first"}')).status).toBe(201);
    expect((await post(`${server.url}/records`, deep)).status).toBe(400);
    const listing = await fetch(`${server.url}/records`);
    expect(listing.status).toBe(200);
    expect(await listing.json()).toEqual([{ title: 'first' }]);
    expect(server.log.text).toBe('');
  });

  it('reads a body exactly at the limit, 1000 by default, and counts objects as arrays', async () => {
    const server = await start(app());
    const atLimit = await post(`${server.url}/echo`, nested(1000));
    expect(atLimit.status).toBe(200);
    expect(atLimit.body).toBe(nested(1000));
    expect((await post(`${server.url}/echo`, nested(1001))).status).toBe(400);
    const objects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
    expect((await post(`${server.url}/echo`, objects(1000))).status).toBe(200);
    expect((await post(`${server.url}/echo`, objects(1001))).status).toBe(400);
    const mixed = '[{"a":'.repeat(500) + '1' + '}]'.repeat(500);
    expect((await post(`${server.url}/echo`, mixed)).status).toBe(200);
    expect((await post(`${server.url}/echo`, `[${mixed}]`)).status).toBe(400);
  });

  it('takes a maxDepth of its own: at it read, past it 400 with that limit named', async () => {
    const server = await start(app());
    expect(await post(`${server.url}/depth?max=3`, '[[[1]]]')).toEqual({ status: 200, body: '3' });
    expect(await post(`${server.url}/depth?max=3`, '[[[ 1, [] ]]]')).toMatchObject({ status: 400 });
    const refused = await post(`${server.url}/depth?max=3`, '{"a":[{"b":[]}]}');
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('maxDepth exceeded: the JSON body is nested deeper than 3 levels');
    expect(refused.body).not.toContain('the default');
    expect(await post(`${server.url}/depth?max=3`, '[[],[],[{}],{"a":[1,2]}]')).toEqual({ status: 200, body: '2' });
  });

  it('lifts the limit with maxDepth: Infinity', async () => {
    const server = await start(app());
    expect(await post(`${server.url}/unlimited`, nested(5000))).toEqual({ status: 200, body: '5000' });
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', async () => {
    const server = await start(app());
    const brackets = '['.repeat(3000) + '{'.repeat(3000);
    for (const body of [
      JSON.stringify({ s: brackets }),
      JSON.stringify([`"${brackets}`]), // an escaped quote does not end the string
      JSON.stringify(['\\', `${brackets}\\`, '\\"[[[', brackets]),
    ]) {
      const answer = await post(`${server.url}/echo`, body);
      expect(answer, body.slice(0, 20)).toEqual({ status: 200, body });
    }
    // A string that ends in a backslash ends at its quote: the nesting after it counts.
    const afterBackslash = `["\\\\",${nested(1001)}]`;
    expect(JSON.parse(afterBackslash)).toHaveLength(2);
    expect((await post(`${server.url}/echo`, afterBackslash)).status).toBe(400);
  });

  it('still answers 400 for invalid JSON, deep or not, without a 500', async () => {
    const server = await start(app());
    for (const body of ['['.repeat(5000), ']'.repeat(5000) + '['.repeat(5000), `"${'['.repeat(5000)}`, '[' + '"\\'.repeat(3000)]) {
      const answer = await post(`${server.url}/echo`, body);
      expect(answer.status, body.slice(0, 20)).toBe(400);
    }
    expect(server.log.text).toBe('');
  });

  it('refuses a maxDepth that is no positive integer or Infinity with a TypeError naming it', async () => {
    const server = await start(app());
    for (const value of [0, -1, 1.5, '"10"', 'null', '"Infinity"']) {
      const answer = await fetch(`${server.url}/option?value=${encodeURIComponent(String(value))}`, { method: 'POST', body: '[]' });
      expect(await answer.text(), String(value)).toMatch(/^TypeError: maxDepth must be a positive integer \(Infinity for no limit\), got /);
    }
    const nan = await fetch(`${server.url}/depth`, { method: 'POST', body: '[]' }); // Number(null): NaN, from an unset setting
    expect(nan.status).toBe(500);
    const taken = await fetch(`${server.url}/option?value=1`, { method: 'POST', body: '[]' });
    expect(await taken.text()).toBe('taken');
  });

  it('is an option of json() alone: text() refuses it as unknown', async () => {
    const req = Request.blank('/', { method: 'POST', body: '[]' });
    await expect(req.text({ maxDepth: 1 } as never)).rejects.toThrow('req.text: unknown option "maxDepth"');
    await expect(req.json({ maxdepth: 1 } as never)).rejects.toThrow('req.json: unknown option "maxdepth": did you mean "maxDepth"?');
  });
});
