/**
 * tsgi/routing: a custom converter named `default` (Werkzeug's `Map(converters={'default': …})`)
 * is the converter of a placeholder written without one (`<name>`), as custom converters win
 * over built-ins, and its value type reaches the handler's values: they were typed `string`
 * whatever the converter gave.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Converter, RouteMap, type RouteValues } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

/** Segments read as lower-case slugs of letters and dashes, kept as an object. */
const slug: Converter<{ slug: string }> = {
  regex: '[A-Za-z-]+',
  toValue: (text) => ({ slug: text.toLowerCase() }),
  toUrl: (value) => value.slug,
};

describe('a custom converter named default', () => {
  const routes = new RouteMap({ post: '/posts/<name>', page: '/<string:title>/<int:n>' }, { converters: { default: slug } });

  it('types and converts a placeholder without a converter; <string:…> stays the built-in', () => {
    expectTypeOf<RouteValues<'/posts/<name>', { default: typeof slug }>>().toEqualTypeOf<{ name: { slug: string } }>();
    expectTypeOf<RouteValues<'/<string:title>/<name>', { default: typeof slug }>>().toEqualTypeOf<{ title: string; name: { slug: string } }>();
    expectTypeOf<RouteValues<'/posts/<name>'>>().toEqualTypeOf<{ name: string }>();
    expect(routes.lookup('GET', '/posts/Hello-World')).toMatchObject({ kind: 'match', values: { name: { slug: 'hello-world' } } });
    expect(routes.lookup('GET', '/posts/a1')).toEqual({ kind: 'none' });
    expect(routes.build('post', { name: { slug: 'a-b' } })).toBe('/posts/a-b');
  });

  it('hands the handler the converted value, typed, over a socket', async () => {
    const server = await start(
      routes.app({
        post: (_req, { name }) => {
          expectTypeOf(name).toEqualTypeOf<{ slug: string }>();
          return `${typeof name} ${name.slug}`;
        },
        page: (_req, { title, n }) => `${title} ${n}`,
      }),
    );
    expect((await request(`${server.url}/posts/Hello`)).body.toString()).toBe('object hello');
    expect((await request(`${server.url}/About/2`)).body.toString()).toBe('About 2');
  });
});
