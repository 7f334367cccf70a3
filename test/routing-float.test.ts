/**
 * tsgi/routing: `<float>` builds from any non-negative finite number, as a plain decimal that
 * matches the rule back to the same number (no exponent for very small or large ones).
 */
import { describe, expect, it } from 'vitest';
import { RouteMap, floatConverter } from 'tsgi/routing';

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
