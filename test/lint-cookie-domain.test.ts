/**
 * lint warns of a `Set-Cookie` whose `Domain` does not cover the host the request was for:
 * browsers drop such a cookie without a word (RFC 6265 §5.3 step 6), so a login on a tenant's
 * own domain, answered with a cookie for the parent domain of the others, never holds.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { lint, proxyFix } from 'tsgi/middleware';
import { rawExchange, parseRaw, start } from './node-helpers.ts';

/** A login that sets its cookie for `?domain=` (none without); a new app each time, as lint warns once per app and rule. */
const login = () =>
  Request.application((req) => {
    const res = new Response('logged in');
    const domain = req.query.get('domain');
    res.setCookie('sid', 'x', domain === null ? {} : { domain });
    return res;
  });

const RULE = /^LintWarning: lint: Set-Cookie with a Domain that does not cover the request's host: browsers drop the cookie \(RFC 6265 §5\.3\); leave domain out for a cookie of this host only \(Domain=example\.com, host shop\.acme\.test: GET \/login\)$/;

async function warningsFor(host: string, query: string, options: { forwardedHost?: string } = {}): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => void warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  const server = await start(proxyFix(lint(login()), { xHost: 1 }));
  try {
    const forwarded = options.forwardedHost === undefined ? '' : `X-Forwarded-Host: ${options.forwardedHost}\r\n`;
    const res = parseRaw((await rawExchange(server.port, `GET /login${query} HTTP/1.1\r\nHost: ${host}\r\n${forwarded}Connection: close\r\n\r\n`)).raw);
    expect(res.status).toBe(200);
    expect(res.header('set-cookie')).toMatch(/^sid=x; /); // let through
    await new Promise((resolve) => setImmediate(resolve));
    return warnings;
  } finally {
    process.off('warning', onWarning);
    await server.close();
  }
}

describe('lint: a cookie Domain the host is not in', () => {
  it('warns of a parent domain cookie set on another domain (a tenant on its own domain)', async () => {
    expect(await warningsFor('shop.acme.test', '?domain=example.com')).toEqual([expect.stringMatching(RULE)]);
    // The host the client asked for, after proxyFix: the one the browser compares.
    expect(await warningsFor('internal', '?domain=example.com', { forwardedHost: 'shop.acme.test' })).toEqual([expect.stringMatching(RULE)]);
  });

  it('warns of a domain set from an IP address, which matches no domain but itself', async () => {
    expect(await warningsFor('127.0.0.1:8000', '?domain=0.0.1')).toEqual([expect.stringMatching(/Domain=0\.0\.1, host 127\.0\.0\.1/)]);
  });

  it.each([
    ['no Domain', 'acme.example.com', ''],
    ['the host itself', 'acme.example.com', '?domain=acme.example.com'],
    ['its parent domain', 'acme.example.com:8443', '?domain=example.com'],
    ['a leading dot, another case, a trailing dot in Host', 'Acme.Example.com.', '?domain=.EXAMPLE.com'],
    ['an IP address, the same', '127.0.0.1', '?domain=127.0.0.1'],
  ])('is quiet for %s', async (_name, host, query) => {
    expect(await warningsFor(host, query)).toEqual([]);
  });
});
