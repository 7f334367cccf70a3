import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { lint } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

/**
 * A page that sets a cookie, with the caching headers given in the query (`?cc=...&cdn=...`);
 * a new app each time, as lint warns once per app and rule.
 */
const page = () => Request.application((req) => {
  const res = new Response('the front page');
  const cc = req.query.get('cc');
  const cdn = req.query.get('cdn');
  if (cc !== null) res.headers.set('Cache-Control', cc);
  if (cdn !== null) res.headers.set('CDN-Cache-Control', cdn);
  res.setCookie('ab', 'variant-b');
  return res;
});

const RULE = /^LintWarning: lint: Set-Cookie on a response a shared cache may store/;

async function warningsFor(query: string): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  const server = await start(lint(page()));
  try {
    const res = await request(`${server.url}/${query}`);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['ab=variant-b; Path=/']); // let through
    await new Promise((resolve) => setImmediate(resolve));
    return warnings;
  } finally {
    process.off('warning', onWarning);
    await server.close();
  }
}

describe('lint: Set-Cookie on a response a CDN may store', () => {
  it.each([
    ['public', '?cc=public,max-age=60'],
    ['s-maxage', '?cc=max-age=60,s-maxage=600'],
    ['CDN-Cache-Control over a private Cache-Control (RFC 9213)', '?cc=private&cdn=max-age=600'],
    ['public, the CDN told no-store (other shared caches obey Cache-Control)', '?cc=public,max-age=60&cdn=no-store'],
  ])('warns of %s', async (_name, query) => {
    expect(await warningsFor(query)).toEqual([expect.stringMatching(RULE)]);
  });

  it.each([
    ['no caching headers', ''],
    ['private', '?cc=private,max-age=60'],
    ['no-store', '?cc=public,no-store'],
    ['no-cache="Set-Cookie"', '?cc=public,s-maxage=600,no-cache="Set-Cookie"'],
    ['private="Set-Cookie"', '?cc=public,s-maxage=600,private="set-cookie"'],
    ['max-age alone (a browser\'s cache)', '?cc=max-age=60'],
    ['a CDN told no-store', '?cc=max-age=60&cdn=no-store'],
  ])('is quiet for %s', async (_name, query) => {
    expect(await warningsFor(query)).toEqual([]);
  });
});

describe('lint: a CDN-targeted field on several lines is one list (RFC 9110 §5.3)', () => {
  it('is quiet when the second line says no-store (socket)', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    const server = await start(lint((_environ, startResponse) => {
      startResponse('200 OK', [
        ['Content-Type', 'text/plain'],
        ['Cache-Control', 'private'],
        ['CDN-Cache-Control', 'max-age=600'],
        ['CDN-Cache-Control', 'no-store'],
        ['Set-Cookie', 'ab=variant-b; Path=/'],
      ]);
      return [new TextEncoder().encode('page')];
    }));
    try {
      expect((await request(server.url)).status).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((line) => RULE.test(line))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await server.close();
    }
  });
});
