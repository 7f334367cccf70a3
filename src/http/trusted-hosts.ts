/**
 * `trustedHosts`, the host names a server answers for (Werkzeug's `trusted_hosts`, Django's
 * `ALLOWED_HOSTS`): the entries checked and normalized, a `Host` matched against them, and the
 * environ key through which the adapters hand them to `proxyFix`.
 *
 * @module
 */
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { asciiHostName, comparableHostName, isValidHost, splitHost } from './host.ts';

/**
 * @internal The adapter's `trustedHosts` (environ key `tsgi.trusted_hosts`), set by the Node and
 * fetch adapters when the option is given, so that `proxyFix` checks the host it puts in place
 * of the `Host` (from `X-Forwarded-Host` or `Forwarded`) as the adapter checked the `Host`.
 */
export const trustedHostsKey = defineEnvironKey<readonly string[]>('tsgi.trusted_hosts');

/** The matcher of each `trustedHosts` list, made once per list. */
const matchers = new WeakMap<readonly string[], (host: string) => boolean>();

/**
 * Checks `trustedHosts` when an adapter is made (see `EnvironOptions.trustedHosts`), so
 * that a list no request could ever match fails at start, not as a 400 to every request.
 *
 * @throws TypeError for a value that is no array, or an entry that is no host name: one with
 *   a port (`localhost:8000`: names are compared without it), a wildcard (`*.example.com`:
 *   write `.example.com`; `*`: leave the option out), a URL, a bare IPv6 address (`::1`: write
 *   `[::1]`, as a `Host` names it, RFC 3986 §3.2.2), or text no host can hold.
 */
export function checkTrustedHosts(trustedHosts: readonly string[] | undefined): void {
  if (trustedHosts === undefined) return;
  if (!Array.isArray(trustedHosts)) throw new TypeError('trustedHosts must be an array of host names, as ["example.com", ".example.com"]');
  trustedMatcher(trustedHosts);
}

/**
 * @internal True when `host` (a valid `Host` value, `name[:port]`) names one of `trustedHosts`
 * (the adapters' option, see `EnvironOptions.trustedHosts`): its name, without port, in lower
 * case and without a trailing dot (an IPv6 literal in its RFC 5952 form), is an entry or a
 * subdomain of a `.`-entry.
 *
 * @throws TypeError as {@link checkTrustedHosts}, for a list not checked before.
 */
export function isTrustedHost(host: string, trustedHosts: readonly string[]): boolean {
  return trustedMatcher(trustedHosts)(host);
}

/** A function telling whether a `Host` value names one of `trustedHosts` (see there). */
function trustedMatcher(trustedHosts: readonly string[]): (host: string) => boolean {
  let matcher = matchers.get(trustedHosts);
  if (matcher !== undefined) return matcher;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of trustedHosts) {
    const name = trustedName(entry);
    if (name.startsWith('.')) {
      suffixes.push(name);
      exact.add(name.slice(1));
    } else exact.add(name);
  }
  matcher = (host) => {
    const name = comparableHostName(splitHost(host)[0]);
    return exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix));
  };
  matchers.set(trustedHosts, matcher);
  return matcher;
}

/**
 * A `trustedHosts` entry as `Host` names are compared: lower case, without a trailing dot, an
 * internationalized name in its ASCII form (`bücher.example` → `xn--bcher-kva.example`, the
 * form browsers send, as Werkzeug encodes its list to IDNA), an IPv6 literal in its RFC 5952
 * form (`[2001:db8::1]`); a leading `.` kept.
 *
 * @throws TypeError for an entry that is no host name, saying what to write instead.
 */
function trustedName(entry: unknown): string {
  const shown = JSON.stringify(entry);
  if (typeof entry !== 'string') throw new TypeError(`trustedHosts: ${shown} is not a host name`);
  if (entry === '*') throw new TypeError('trustedHosts: "*" is no host name: leave trustedHosts out to answer every host');
  if (entry.startsWith('*.')) {
    throw new TypeError(`trustedHosts: ${shown} is no host name: write ${JSON.stringify(entry.slice(1))} for ${entry.slice(2)} and its subdomains`);
  }
  if (entry.includes('*')) throw new TypeError(`trustedHosts: ${shown} is no host name: a wildcard matches no Host, list each host`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    const host = URL.canParse(entry) ? new URL(entry).hostname : '';
    throw new TypeError(`trustedHosts: ${shown} is a host name, not a URL${host === '' ? '' : `: write ${JSON.stringify(host)}`}`);
  }
  const dot = entry.startsWith('.') ? '.' : '';
  const name = comparableHostName(entry.slice(dot.length));
  const [bare, port] = splitPort(name);
  if (port) throw new TypeError(`trustedHosts: ${shown} is compared without the port: write ${JSON.stringify(dot + bare)}`);
  const literal = ipv6Literal(name);
  if (dot === '' && literal !== undefined) throw new TypeError(`trustedHosts: ${shown} is an IPv6 address: write ${JSON.stringify(literal)}`);
  const ascii = comparableHostName(asciiHostName(name) ?? '');
  if (ascii === '' || ascii.startsWith('.') || ascii.includes(':') !== ascii.startsWith('[') || !isValidHost(ascii)) {
    throw new TypeError(`trustedHosts: ${shown} is not a host name`);
  }
  return dot + ascii;
}

/** `name` as a `Host` names it when it is a bare IPv6 address (`::1` → `[::1]`, compressed, lower case), else `undefined`. */
function ipv6Literal(name: string): string | undefined {
  if (!name.includes(':') || name.startsWith('[')) return undefined;
  const url = `http://[${name}]/`;
  return URL.canParse(url) ? new URL(url).hostname : undefined;
}

/** `name` and whether it ended in a port (`localhost:8000` → `['localhost', true]`; `[::1]` → no port). */
function splitPort(name: string): [string, boolean] {
  const colon = name.lastIndexOf(':');
  const isPort = colon > name.lastIndexOf(']') && (name.startsWith('[') || name.indexOf(':') === colon);
  return isPort ? [name.slice(0, colon), true] : [name, false];
}

/**
 * Why a server refuses `HTTP_HOST`, or null when it takes it: absent, or valid (`isValidHost`:
 * a `uri-host [ ":" port ]` without percent-encoding, an IPv6 zone or a port above 65535);
 * and, when `trustedHosts` is given, naming one of them (see the adapters' `trustedHosts` option).
 *
 * @returns `invalid Host header` for a malformed value, `untrusted Host header` for a host
 *   outside `trustedHosts`, null otherwise. The adapters answer it as a 400 (`checkHost` in the adapters' environ rules);
 *   the test client reports it as they would.
 */
export function hostRefusal(host: string | undefined, trustedHosts?: readonly string[]): string | null {
  if (host === undefined) return null;
  if (!isValidHost(host)) return 'invalid Host header';
  if (trustedHosts !== undefined && !isTrustedHost(host, trustedHosts)) return 'untrusted Host header';
  return null;
}
