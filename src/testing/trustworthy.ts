/**
 * Which URLs a browser treats as secure though they may be plain http.
 *
 * @module
 */

/**
 * True for a "potentially trustworthy" URL (Secure Contexts §3.1): `https:`, `wss:`, a
 * loopback address (`127.0.0.0/8`, `[::1]`), `localhost` and its subdomains. Browsers send the
 * `Sec-Fetch-*` fields to those only, and Chrome and Firefox keep and send `Secure` cookies
 * there over plain http (as tough-cookie's `allowSecureOnLocal` does).
 */
export function isTrustworthy(url: URL): boolean {
  if (url.protocol === 'https:' || url.protocol === 'wss:') return true;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]';
}
