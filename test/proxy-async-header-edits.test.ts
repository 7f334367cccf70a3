/**
 * A `requestHeaders` or `responseHeaders` function of `proxy` written `async` (a token fetched
 * for the upstream: TypeScript lets a function answering a promise stand for one answering
 * `void`): the proxy cannot wait for it, so its edits would be made after the request went
 * out (forwarded without its `Authorization`) or the head was sent. It is refused, a logged
 * `500` as for a function that throws, and its promise's rejection is never left unhandled,
 * which ends the Node process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { rawExchange, sleep, start, until } from './node-helpers.ts';
import { recordUnhandledRejections } from './helpers.ts';

const unhandled = recordUnhandledRejections();
const gateways: ProxyApp[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

const token = async (): Promise<string> => {
  await sleep(1);
  throw new Error('token service down');
};

describe('proxy header edits answering a promise', () => {
  it('requestHeaders: a logged 500, nothing forwarded without the edit (socket)', async () => {
    const asked: Array<string | null> = [];
    const upstream = await start(Request.application((req) => (asked.push(req.headers.get('authorization')), new Response('secret'))));
    const gateway = proxy(upstream.url, {
      requestHeaders: async (headers) => {
        headers.set('Authorization', `Bearer ${await token()}`);
      },
    });
    gateways.push(gateway);
    const server = await start(gateway);
    const { raw } = await rawExchange(server.port, 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 500 /);
    expect(asked).toEqual([]);
    await until(() => server.log.text.includes('requestHeaders'));
    expect(server.log.text).toMatch(/TypeError: proxy: the requestHeaders function answered a promise/);
    await sleep(20);
    expect(unhandled).toEqual([]);
  });

  it('responseHeaders: a logged 500 (socket)', async () => {
    const upstream = await start(Request.application(() => new Response('page')));
    const gateway = proxy(upstream.url, {
      responseHeaders: async (headers) => {
        headers.set('X-Token', await token());
      },
    });
    gateways.push(gateway);
    const server = await start(gateway);
    const { raw } = await rawExchange(server.port, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 500 /);
    await until(() => server.log.text.includes('responseHeaders'));
    expect(server.log.text).toMatch(/TypeError: proxy: the responseHeaders function answered a promise/);
    await sleep(20);
    expect(unhandled).toEqual([]);
  });
});
