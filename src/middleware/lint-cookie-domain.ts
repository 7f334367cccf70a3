/**
 * Lint's check of each `Set-Cookie`'s `Domain` against the host the request was for.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { comparableHostName, hostOf, splitHost } from '../http/host.ts';
import type { LintWarn } from './lint-environ.ts';

/** The last `Domain` attribute of a `Set-Cookie` value (the one browsers use, RFC 6265 §5.3 step 3), or `null`. */
function domainOf(setCookie: string): string | null {
  let domain: string | null = null;
  const attributes = setCookie.split(';');
  for (let i = 1; i < attributes.length; i++) {
    const attribute = attributes[i]!;
    const equals = attribute.indexOf('=');
    if (equals !== -1 && attribute.slice(0, equals).trim().toLowerCase() === 'domain') domain = attribute.slice(equals + 1).trim();
  }
  return domain;
}

/**
 * Warns (once per app, as every lint warning) of a `Set-Cookie` whose `Domain` the request's
 * host does not domain-match (RFC 6265 §5.1.3): browsers drop such a cookie without a word
 * (§5.3 step 6), so a login answered with it never holds. The classic case: a site on
 * subdomains (`acme.example.com`) that sets its cookies for `Domain=example.com`, also served
 * on a customer's own domain (`shop.acme.test`). The host is `Host` (else `SERVER_NAME`) as
 * the app saw it (after `proxyFix`), compared in lower case without port or trailing dot; an
 * IP address matches only itself. `headers` are the `startResponse` pairs, already checked.
 */
export function checkCookieDomains(headers: ReadonlyArray<readonly [string, string]>, environ: Environ, warn: LintWarn, what: string): void {
  let host: string | undefined;
  for (const [name, value] of headers) {
    if (name.length !== 10 || name.toLowerCase() !== 'set-cookie') continue;
    const written = domainOf(value);
    if (written === null) continue;
    const domain = comparableHostName(written.startsWith('.') ? written.slice(1) : written);
    if (domain === '') continue;
    host ??= comparableHostName(splitHost(hostOf(environ))[0]);
    const ip = host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host);
    if (host === domain || (!ip && host.endsWith(`.${domain}`))) continue;
    warn(
      "Set-Cookie with a Domain that does not cover the request's host: browsers drop the cookie (RFC 6265 §5.3); leave domain out for a cookie of this host only",
      `Domain=${written}, host ${host}: ${what}`,
    );
  }
}
