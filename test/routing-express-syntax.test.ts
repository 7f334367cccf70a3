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
    ['/files/*', '"/files/<path:rest>"'],
    ['/files/*path', '"/files/<path:path>"'],
    ['/<int:year>/:slug', '"/<int:year>/<slug>"'],
    // Hono's regular-expression parameter, as docs/hono.md shows it.
    ['/posts/:id{[0-9]+}', '"/posts/<id>"'],
    ['/post/:date{[0-9]+}/:title{[a-z]+}', '"/post/<date>/<title>"'],
    // A regular expression with a `*` (or `/*`) is the parameter's, not an optional `{…}` part.
    ['/files/:path{.*}', '"/files/<path>"'],
    ['/assets/:file{.*\\.png}', '"/assets/<file>"'],
    ['/a/:rest{b/*}', '"/a/<rest>"'],
  ])('%s, naming the rule and the pattern to write', (pattern, written) => {
    expect(() => new RouteMap({ post: pattern })).toThrow(TypeError);
    expect(() => new RouteMap({ post: pattern })).toThrow(`post (${pattern}): ':name' and '*' are Express/Hono syntax, matched here as literal text (a silent 404): write ${written}`);
  });

  // Express 4's two parameters in a segment and `:name+`, Express 5's named wildcard: they passed
  // as literal text (every request a silent 404) but for `*name`.
  it.each([
    ['/flights/:from-:to', '"/flights/<from>-<to>"'],
    ['/plantae/:genus.:species', '"/plantae/<genus>.<species>"'],
    ['/reports/r<int:year>-:month', '"/reports/r<int:year>-<month>"'],
    ['/files/:rest+', '"/files/<path:rest>"'],
    ['/files/*path', '"/files/<path:path>"'],
    // A profile page as Mastodon writes it; `@:` is no literal text a path holds.
    ['/@:user', '"/@<user>"'],
    ['/@:user/:status', '"/@<user>/<status>"'],
  ])('%s, several parameters or a wildcard, naming the pattern to write', (pattern, written) => {
    expect(() => new RouteMap({ post: pattern })).toThrow(`post (${pattern}): ':name' and '*' are Express/Hono syntax, matched here as literal text (a silent 404): write ${written}`);
  });

  // Express 5's `{…}` groups, Express 4's and Hono's `:name?`, Express 4's `:name*`: one tsgi rule
  // cannot leave a part out, two rules for one endpoint do.
  it.each([
    ['/posts{/:id}', '"{/:id}"', '["/posts", "/posts/<id>"]'],
    ['/:lang?/about', '":lang?"', '["/about", "/<lang>/about"]'],
    // Express 5's form of it, which opens with its group, not with '/' (docs/routing.md's table).
    ['{/:lang}/about', '"{/:lang}"', '["/about", "/<lang>/about"]'],
    ['/:id?', '":id?"', '["/", "/<id>"]'],
    ['/file{.:ext}', '"{.:ext}"', '["/file", "/file.<ext>"]'],
    ['/:file{.:ext}', '"{.:ext}"', '["/<file>", "/<file>.<ext>"]'],
    ['/files{/*path}', '"{/*path}"', '["/files", "/files/<path:path>"]'],
    ['/files/:rest*', '":rest*"', '["/files", "/files/<path:rest>"]'],
    ['/<int:year>{/:slug}', '"{/:slug}"', '["/<int:year>", "/<int:year>/<slug>"]'],
  ])('%s, an optional part, naming the two rules to write', (pattern, text, rules) => {
    expect(() => new RouteMap({ post: pattern })).toThrow(
      `post (${pattern}): ${text} is an optional part in Express/Hono syntax, matched here as literal text (a silent 404): write two rules for the endpoint, post: ${rules} (a value the shorter rule lacks is undefined, or give it by that rule's defaults)`,
    );
  });

  // Several optional parts: every combination Express matches is a rule (`/x/1` is `a`, as the
  // left part is filled first); two rules would leave `/x/1` or `/about/2` a silent 404.
  it.each([
    ['/x/:a?/:b?', '":a?"', 'three', '["/x", "/x/<a>", "/x/<a>/<b>"]'],
    ['/:lang?/about/:page?', '":lang?"', 'four', '["/about", "/<lang>/about", "/about/<page>", "/<lang>/about/<page>"]'],
    ['/posts{/:year}{/:slug}', '"{/:year}"', 'three', '["/posts", "/posts/<year>", "/posts/<year>/<slug>"]'],
    // A placeholder of tsgi inside a dropped part leaves with it; the others stay where they are.
    ['/a{/<int:y>/:s}/<int:z>', '"{/<int:y>/:s}"', 'two', '["/a/<int:z>", "/a/<int:y>/<s>/<int:z>"]'],
  ])('%s, several optional parts or placeholders in one, naming every rule to write', (pattern, text, count, rules) => {
    expect(() => new RouteMap({ post: pattern })).toThrow(
      `post (${pattern}): ${text} is an optional part in Express/Hono syntax, matched here as literal text (a silent 404): write ${count} rules for the endpoint, post: ${rules} (`,
    );
  });

  it('takes the three rules it names for /x/:a?/:b?', async () => {
    const routes = new RouteMap({ x: ['/x', '/x/<a>', '/x/<a>/<b>'] });
    const client = new TestClient(routes.app({ x: (_req, { a, b }) => `${a ?? '-'} ${b ?? '-'}` }));
    expect(await (await client.get('/x')).text()).toBe('- -');
    expect(await (await client.get('/x/1')).text()).toBe('1 -');
    expect(await (await client.get('/x/1/2')).text()).toBe('1 2');
  });

  it('takes the two rules it names', async () => {
    const routes = new RouteMap({ post: ['/posts', '/posts/<id>'] });
    const client = new TestClient(routes.app({ post: (_req, { id }) => `post ${id ?? 'list'}` }));
    expect(await (await client.get('/posts')).text()).toBe('post list');
    expect(await (await client.get('/posts/7')).text()).toBe('post 7');
  });

  it("refuses a redirectTo template in that syntax, which redirected every request to the literal '/posts/:id'", () => {
    expect(() => new RouteMap({ old: { path: '/p/<int:id>', redirectTo: '/posts/:id' }, post: '/posts/<int:id>' })).toThrow(
      `/p/<int:id> (old): redirectTo: ":id" is Express/Hono syntax, written here as literal text (every match would redirect to it): name the rule's placeholder as <name> (id)`,
    );
    expect(() => new RouteMap({ old: { path: '/f/<path:rest>', redirectTo: '/files/*' } })).toThrow(/redirectTo: "\*" is Express\/Hono syntax/);
    expect(() => new RouteMap({ old: { path: '/f/<a>/<b>', redirectTo: '/flights/:a-:b' } })).toThrow(/redirectTo: ":a" is Express\/Hono syntax/);
    expect(() => new RouteMap({ old: { path: '/p/<int:id>', redirectTo: '/posts{/:id}' } })).toThrow(/redirectTo: "\{\/:id\}" is Express\/Hono syntax/);
    // The part is shown as written, a placeholder of the template in it too.
    expect(() => new RouteMap({ old: { path: '/p/<int:id>/<s>', redirectTo: '/posts{/<id>/:s}' } })).toThrow('redirectTo: "{/<id>/:s}" is Express/Hono syntax');
    expect(() => new RouteMap({ old: { path: '/p/<int:id>', redirectTo: '/posts/<id>' }, post: '/posts/<int:id>' })).not.toThrow();
  });

  it('still takes a colon or a star inside a segment, and braces holding no parameter', async () => {
    const routes = new RouteMap({ isbn: '/books/urn:isbn:<isbn>', glob: '/search/a*b', colon: '/a:b', brace: '/t/{x}/a{b}', matrix: '/@alice:example.org' });
    const client = new TestClient(routes.app({ isbn: (_req, { isbn }) => `book ${isbn}`, glob: () => 'glob', colon: () => 'colon', brace: () => 'brace', matrix: () => 'matrix' }));
    expect(await (await client.get('/books/urn:isbn:123')).text()).toBe('book 123');
    expect(await (await client.get('/search/a*b')).text()).toBe('glob');
    expect(await (await client.get('/a:b')).text()).toBe('colon');
    expect(await (await client.get('/t/%7Bx%7D/a%7Bb%7D')).text()).toBe('brace');
    expect(await (await client.get('/@alice:example.org')).text()).toBe('matrix');
  });
});
