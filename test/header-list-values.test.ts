/**
 * A `HeaderList` takes strings and finite numbers as field values, and `[name, value]` pairs
 * of two: anything else is a `TypeError` naming the field, where `add('X-Id', undefined)` sent
 * `X-Id: undefined`, `add('X-Meta', {})` `[object Object]`, a pair `['X-A']` `X-A: undefined`, a
 * string `'ab'` the field `a: b`, and `new Response(body, { headers: { 'X-A': null } })` threw
 * JavaScript's `value is not iterable`. Over a socket: nothing of the kind reaches the client.
 */
import { describe, expect, it } from 'vitest';
import { HeaderList, Request, Response, serve } from 'tsgi';

describe('HeaderList values', () => {
  it.each([undefined, null, {}, Symbol('id'), Number.NaN, Infinity])('add and set refuse %s, naming the field', (value) => {
    expect(() => new HeaderList().add('X-Id', value as never)).toThrow(TypeError);
    expect(() => new HeaderList().add('X-Id', value as never)).toThrow(/^invalid value for header X-Id: .* \(a string or a number\)$/);
    if (value !== undefined && value !== null) expect(() => new HeaderList().set('X-Id', value as never)).toThrow(/^invalid value for header X-Id: /);
  });

  it('takes strings and finite numbers, and set(name, null or undefined) still deletes', () => {
    const headers = new HeaderList().add('X-A', 'a').add('X-N', 42).add('X-Z', -0.5);
    headers.set('X-A', undefined).set('X-B', 7);
    expect([...headers]).toEqual([['X-N', '42'], ['X-Z', '-0.5'], ['X-B', '7']]);
  });

  it('takes a bigint and a boolean as String() writes them, as before and as fetch Headers does', () => {
    const headers = new HeaderList([['X-Big', 10n as never]]).add('X-Id', 9007199254740993n as never).add('X-Flag', true as never);
    headers.set('X-Off', false as never);
    expect([...headers]).toEqual([['X-Big', '10'], ['X-Id', '9007199254740993'], ['X-Flag', 'true'], ['X-Off', 'false']]);
  });

  it.each([[[['X-A']]], [[['X-A', '1', '2']]], [['ab']], [[{ name: 'X-A', value: '1' }]]])('refuses the pairs %j', (init) => {
    expect(() => new HeaderList(init as never)).toThrow(TypeError);
    expect(() => new HeaderList(init as never)).toThrow(/^a header pair is \[name, value\], not /);
  });

  it('skips a record entry of undefined or null, takes a list, and refuses another type by name', () => {
    expect([...new HeaderList({ 'X-A': undefined, 'X-B': null, 'X-C': ['1', 2], 'X-D': 'd' })]).toEqual([['X-C', '1'], ['X-C', '2'], ['X-D', 'd']]);
    expect(() => new HeaderList({ 'X-A': Number.NaN } as never)).toThrow(/^invalid value for header X-A: NaN \(a string or a number\)$/);
    expect([...new HeaderList({ Vary: new Set(['Accept', 'Cookie']), 'X-N': 1n } as never)]).toEqual([['Vary', 'Accept'], ['Vary', 'Cookie'], ['X-N', '1']]);
    expect(() => new Response('x', { headers: { 'X-A': { a: 1 } } as never })).toThrow(/^invalid value for header X-A: an object/);
  });

  it('takes a Map, a fetch Headers and another HeaderList, as before', () => {
    const expected = [['x-a', '1']];
    expect([...new HeaderList(new Map([['x-a', '1']]))]).toEqual(expected);
    expect([...new HeaderList(new Headers({ 'x-a': '1' }))]).toEqual(expected);
    expect([...new HeaderList(new HeaderList([['x-a', '1']]))]).toEqual(expected);
  });

  it('over a socket: an app adding an undefined value answers a logged 500, not the field', async () => {
    const lines: string[] = [];
    const app = Request.application((req) => {
      const res = new Response('ok');
      res.headers.add('X-Id', (req.query.get('id') ?? undefined) as string);
      res.headers.set('X-Big', 12345678901234567890n as never).set('X-Cached', false as never);
      return res;
    });
    const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write: (line) => lines.push(line) } });
    try {
      const missing = await fetch(`${server.url}/`);
      expect([missing.status, missing.headers.get('x-id')]).toEqual([500, null]);
      const given = await fetch(`${server.url}/?id=7`);
      expect([given.status, given.headers.get('x-id'), given.headers.get('x-big'), given.headers.get('x-cached'), await given.text()]).toEqual([200, '7', '12345678901234567890', 'false', 'ok']);
    } finally {
      await server.close();
    }
    expect(lines.join('')).toContain('invalid value for header X-Id: undefined (a string or a number)');
  });
});
