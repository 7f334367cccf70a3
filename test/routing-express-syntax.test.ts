/**
 * A rule in Express or Hono syntax (`'/posts/:id'`, `'/files/*'`) is refused when the map is
 * built, with the pattern to write: matched as literal text, it would answer 404 to every
 * request it was meant for.
 */
import { describe, expect, it } from 'vitest';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';

describe('RouteMap refuses Express and Hono route syntax', () => {
  it.each([
    ['/posts/:id', '"/posts/<id>"'],
    ['/users/:id(\\d+)/edit', '"/users/<id>/edit"'],
    ['/:lang?/about', '"/<lang>/about"'],
    ['/files/*', '"/files/<path:rest>"'],
    ['/files/*path', '"/files/<path:path>"'],
    ['/<int:year>/:slug', '"/<int:year>/<slug>"'],
    // Hono's regular-expression parameter, as docs/hono.md shows it.
    ['/posts/:id{[0-9]+}', '"/posts/<id>"'],
    ['/post/:date{[0-9]+}/:title{[a-z]+}', '"/post/<date>/<title>"'],
  ])('%s, naming the rule and the pattern to write', (pattern, written) => {
    expect(() => new RouteMap({ post: pattern })).toThrow(TypeError);
    expect(() => new RouteMap({ post: pattern })).toThrow(`post (${pattern}): ':name' and '*' are Express/Hono syntax, matched here as literal text (a silent 404): write ${written}`);
  });

  it("refuses a redirectTo template in that syntax, which redirected every request to the literal '/posts/:id'", () => {
    expect(() => new RouteMap({ old: { path: '/p/<int:id>', redirectTo: '/posts/:id' }, post: '/posts/<int:id>' })).toThrow(
      `/p/<int:id> (old): redirectTo: ":id" is Express/Hono syntax, written here as literal text (every match would redirect to it): name the rule's placeholder as <name> (id)`,
    );
    expect(() => new RouteMap({ old: { path: '/f/<path:rest>', redirectTo: '/files/*' } })).toThrow(/redirectTo: "\*" is Express\/Hono syntax/);
    expect(() => new RouteMap({ old: { path: '/p/<int:id>', redirectTo: '/posts/<id>' }, post: '/posts/<int:id>' })).not.toThrow();
  });

  it('still takes a colon or a star inside a segment', async () => {
    const routes = new RouteMap({ isbn: '/books/urn:isbn:<isbn>', glob: '/search/a*b' });
    const client = new TestClient(routes.app({ isbn: (_req, { isbn }) => `book ${isbn}`, glob: () => 'glob' }));
    expect(await (await client.get('/books/urn:isbn:123')).text()).toBe('book 123');
    expect(await (await client.get('/search/a*b')).text()).toBe('glob');
  });
});
