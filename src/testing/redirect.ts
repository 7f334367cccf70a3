/**
 * The request that follows a redirect answer.
 *
 * @module
 */
import type { Response } from '../response/response.ts';
import type { RequestOptions } from './options.ts';
import { HeaderList } from '../http/header-list.ts';

/** One request of a chain: method, absolute URL, options. */
export interface Hop {
  method: string;
  url: URL;
  options: RequestOptions;
}

const FOLLOWED = new Set([301, 302, 303, 307, 308]);
/** Fields that describe a request body (Fetch's request-body-header names), dropped with it. */
const BODY_FIELDS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length']);

/**
 * The next request after `res`, or `null` when `res` is not a redirect to follow (a status
 * other than 301, 302, 303, 307 or 308, or no `Location`). As Werkzeug's client: 307 and 308
 * repeat the method and body; 301, 302 and 303 ask again with GET (a HEAD stays HEAD) and
 * drop the body and its fields. The `Location` is resolved against the URL asked for; the
 * query option is not sent again (the new URL has its own), and `Authorization` is dropped
 * when the origin changes (as `fetch()` does).
 */
export function nextHop(hop: Hop, res: Response): Hop | null {
  const location = res.headers.get('location');
  if (!FOLLOWED.has(res.statusCode) || location === null) return null;
  const url = new URL(location, hop.url);
  url.hash = '';
  const { query: _query, ...kept } = hop.options;
  const keepBody = res.statusCode === 307 || res.statusCode === 308;
  let headers = [...new HeaderList(kept.headers)];
  if (url.origin !== hop.url.origin) headers = headers.filter(([name]) => name.toLowerCase() !== 'authorization');
  if (keepBody) return { method: hop.method, url, options: { ...kept, headers } };
  const { json: _json, form: _form, files: _files, body: _body, ...rest } = kept;
  headers = headers.filter(([name]) => !BODY_FIELDS.has(name.toLowerCase()));
  return { method: hop.method === 'HEAD' ? 'HEAD' : 'GET', url, options: { ...rest, headers } };
}
