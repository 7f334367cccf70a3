/**
 * Two copies of tsgi in one process (npm link, two versions in a monorepo): an `HTTPException`
 * or a `Response` made by one copy is answered by the other's `Request.application`,
 * `errors()`, `cascade`, hooks and form reader as one of its own would be. The second copy is
 * src/ copied to a folder of its own, so every class in it is a different one.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type AppLike, HTTPNotFound, Request, Response, defineMiddleware, serve } from 'tsgi';
import { cascade, errors } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { fromFetchHandler } from 'tsgi/fetch';

type Tsgi = typeof import('tsgi');

const root = path.resolve(import.meta.dirname, '..');
// Inside the project (git-ignored), so the copy's imports of cookie, busboy, … resolve.
const folder = path.join(root, 'test-artifacts', `dual-copy-${process.pid}`);
let other: Tsgi;

beforeAll(async () => {
  mkdirSync(folder, { recursive: true });
  cpSync(path.join(root, 'src'), path.join(folder, 'src'), { recursive: true });
  other = (await import(pathToFileURL(path.join(folder, 'src', 'index.ts')).href)) as Tsgi;
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function get(app: AppLike, target = '/'): Promise<{ status: number; text: string; log: string }> {
  const log: string[] = [];
  const server = await serve(app, { port: 0, host: '127.0.0.1', log: { write: (m) => void log.push(m) } });
  try {
    const res = await fetch(`${server.url}${target}`);
    return { status: res.status, text: await res.text(), log: log.join('') };
  } finally {
    await server.close();
  }
}

describe('a second copy of tsgi', () => {
  it('is a copy: its classes are not this copy’s', () => {
    expect(other.HTTPNotFound).not.toBe(HTTPNotFound);
    expect(new other.HTTPNotFound()).not.toBeInstanceOf(HTTPNotFound);
    expect(new other.Response('x')).not.toBeInstanceOf(Response);
  });

  it('throws an HTTPException that Request.application answers with its status and page', async () => {
    const app = Request.application(() => {
      throw new other.HTTPNotFound('no such page');
    });
    const res = await get(app);
    expect(res.status).toBe(404);
    expect(res.text).toContain('no such page');
    expect(res.log).toBe('');
  });

  it('throws an HTTPException from an app below errors() and serve(): its answer, not a 500', async () => {
    const raw: App = () => {
      throw new other.HTTPForbidden('keep out');
    };
    expect((await get(errors(raw))).status).toBe(403);
    const bare = await get(raw);
    expect([bare.status, bare.log]).toEqual([403, '']);
  });

  it('throws a 404 that cascade() passes on to the next app', async () => {
    const first = Request.application(() => {
      throw new other.HTTPNotFound();
    });
    const second = Request.application(() => new Response('second'));
    const res = await get(cascade([first, second]));
    expect([res.status, res.text]).toEqual([200, 'second']);
  });

  it('makes a Response that a handler returns and a defineMiddleware after hook replaces with', async () => {
    const handler = Request.application(() => new other.Response('from the other copy', { status: 202 }));
    expect(await get(handler)).toMatchObject({ status: 202, text: 'from the other copy' });
    const replaced = defineMiddleware({ after: () => new other.Response('replaced', { status: 203 }) });
    const app = replaced(Request.application(() => new Response('original')));
    expect(await get(app)).toMatchObject({ status: 203, text: 'replaced' });
  });

  it('refuses a body with its 413 where the form reader meets it, not a 400', async () => {
    const app = Request.application(async (req) => {
      req.environ['tsgi.input'] = (async function* () {
        yield new Uint8Array(0);
        throw new other.HTTPContentTooLarge('too much');
      })();
      req.environ.CONTENT_TYPE = 'application/x-www-form-urlencoded';
      req.environ.CONTENT_LENGTH = undefined;
      await req.form();
      return new Response('read');
    });
    const res = await get(app);
    expect([res.status, res.text]).toEqual([413, expect.stringContaining('too much')]);
  });

  it('makes a Request that a RouteMap binds to, as one of this copy', () => {
    const routes = new RouteMap({ item: '/items/<int:id>' });
    const urls = routes.bind(other.Request.blank('/items/3', { baseUrl: 'http://localhost/shop' }) as unknown as Request);
    expect(urls.match()).toMatchObject({ endpoint: 'item', values: { id: 3 } });
    expect(urls.build('item', { id: 4 })).toBe('/shop/items/4');
  });

  it('refuses, from its server, a body that a fromFetchHandler handler failed to read: the 413 stands', async () => {
    const app = fromFetchHandler(async (request) => {
      try {
        await request.text();
        return new globalThis.Response('read');
      } catch {
        return new globalThis.Response('could not read', { status: 500 });
      }
    });
    const server = await other.serve(app, { port: 0, host: '127.0.0.1', maxBodySize: 10, log: { write() {} } });
    try {
      const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x'.repeat(100))), c.close()) });
      const res = await fetch(`${server.url}/`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(413);
      await res.body?.cancel();
    } finally {
      await server.close();
    }
  });

  it('leaves ordinary code as it was: a look-alike without the brand is a failure (500)', async () => {
    const lookAlike = Object.assign(new Error('not an exception'), { code: 404, getResponse: () => new Response('x', { status: 404 }) });
    const app = Request.application(() => {
      throw lookAlike;
    });
    const res = await get(app);
    expect(res.status).toBe(500);
    expect(res.log).toContain('not an exception');
  });
});

describe('errorPages across copies', () => {
  it("renders the page of another copy's HTTPException, and serves the other copy's Response a render answers", async () => {
    const { errorPages } = await import('tsgi/middleware');
    const throwing = Request.application(() => {
      throw new other.HTTPNotFound('gone');
    });
    const ours = await get(errorPages(throwing, { render: (error) => new Response(`our page ${error.code}`) }));
    expect([ours.status, ours.text]).toEqual([404, 'our page 404']);
    const theirs = await get(errorPages(Request.application(() => {
      throw new HTTPNotFound('gone');
    }), { render: (error) => new other.Response(`their page ${error.code}`) as never }));
    expect([theirs.status, theirs.text]).toEqual([404, 'their page 404']);
  });
});
