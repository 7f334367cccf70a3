/**
 * A fetch handler wrapped with `fromFetchHandler({ stripPrefix: true })` under a mount point the
 * client spelt with an escaped slash (`/repos/a%2Fb`, as an Express mount path's parameter
 * gives it; here `mount`, whose `SCRIPT_NAME` is decoded the same way): the
 * `X-Forwarded-Prefix` it is given names the mount point as the client spelt it, as
 * `req.applicationUrl` does, not `/repos/a/b`. Over a real socket.
 */
import { describe, expect, it } from 'vitest';
import { fromFetchHandler } from 'tsgi/fetch';
import { mount } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const handler = fromFetchHandler(
  (req) => new globalThis.Response(`${new URL(req.url).pathname} prefix=${req.headers.get('x-forwarded-prefix')}`),
  { stripPrefix: true },
);

describe('fromFetchHandler under a mount point spelt with an escaped slash', () => {
  it('gives the handler the prefix as the client spelt it', async () => {
    const server = await start(mount({ '/repos/a/b': handler }));
    try {
      expect((await request(`${server.url}/repos/a%2Fb/issues`)).body.toString()).toBe('/issues prefix=/repos/a%2Fb');
      expect((await request(`${server.url}/repos/a/b/issues`)).body.toString()).toBe('/issues prefix=/repos/a/b');
    } finally {
      await server.close();
    }
  });
});
