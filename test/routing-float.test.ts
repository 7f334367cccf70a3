/**
 * tsgi/routing: `<float>` builds from any non-negative finite number, as a plain decimal that
 * matches the rule back to the same number (no exponent for very small or large ones).
 */
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { RouteMap, floatConverter } from 'tsgi/routing';
import { start } from './node-helpers.ts';

const routes = new RouteMap({ x: '/x/<float:v>' });

describe('building a float placeholder', () => {
  it('writes very small and very large numbers without an exponent', () => {
    expect(routes.build('x', { v: 1e-7 })).toBe('/x/0.0000001');
    expect(routes.build('x', { v: 1.5e-10 })).toBe('/x/0.00000000015');
    expect(routes.build('x', { v: 1e21 })).toBe('/x/1000000000000000000000.0');
    expect(routes.build('x', { v: 1.25e22 })).toBe('/x/12500000000000000000000.0');
    expect(routes.build('x', { v: 3 })).toBe('/x/3.0');
    expect(routes.build('x', { v: 0 })).toBe('/x/0.0');
    expect(routes.build('x', { v: 12.5 })).toBe('/x/12.5');
    expect(routes.build('x', { v: Number.MIN_VALUE })).toMatch(/^\/x\/0\.0{323}5$/);
  });

  it('builds URLs that match back to the same number', () => {
    const samples = [1e-7, 2.5e-300, 0.1, 0.30000000000000004, 1, 123456.789, 9007199254740993, 1e21, 1.7976931348623157e308, Number.MIN_VALUE, Number.MAX_VALUE];
    for (let i = 0; i < 200; i++) samples.push(Math.random() * 10 ** Math.floor(Math.random() * 60 - 30));
    for (const v of samples) {
      const url = routes.build('x', { v });
      expect(url).toMatch(/^\/x\/\d+\.\d+$/);
      expect(routes.lookup('GET', url)).toMatchObject({ kind: 'match', values: { v } });
    }
  });

  it('still refuses negative and non-finite numbers', () => {
    for (const v of [-1, -1e-7, Infinity, NaN]) expect(() => floatConverter.toUrl(v)).toThrow(TypeError);
  });
});

describe('matching a float placeholder', () => {
  it('does not match digits past the largest double, as a too large <int> does not', () => {
    const huge = `/x/${'9'.repeat(400)}.0`;
    expect(floatConverter.toValue(`${'9'.repeat(400)}.0`)).toBeUndefined();
    expect(routes.lookup('GET', huge)).toMatchObject({ kind: 'none' });
    expect(routes.lookup('GET', '/x/1.5')).toMatchObject({ kind: 'match', values: { v: 1.5 } });
  });

  it('answers 404 over a socket, not a 500 from a handler building the URL back', async () => {
    const server = await start(routes.app({ x: (_req, { v }, urls) => new Response(urls.build('x', { v })) }));
    const res = await fetch(`http://127.0.0.1:${server.port}/x/${'9'.repeat(400)}.0`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    expect(server.log.text).toBe('');
  });
});
