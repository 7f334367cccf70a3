/**
 * Whether this code runs inside a Cloudflare Worker (workerd), where a few fetch behaviours
 * differ from the Fetch Standard's.
 *
 * @module
 */

/** True inside a Cloudflare Worker: `navigator.userAgent` is `Cloudflare-Workers` (the documented runtime check). */
export const inWorkers = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';
