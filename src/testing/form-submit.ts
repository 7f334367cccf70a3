/**
 * The request a form submission makes (HTML Living Standard §4.10.21.3, "form submission
 * algorithm"): method, action and enctype of the form or of the button used, the entries
 * encoded as the enctype says.
 *
 * @module
 */
import { type FileSpec, encodeMultipartIn } from '../forms/encode.ts';
import { HeaderList } from '../http/header-list.ts';
import type { RequestOptions } from './options.ts';
import type { Control } from './form-controls.ts';
import { type Element, attribute } from './html.ts';
import { formEncoder, urlencode } from './form-encoding.ts';
import { TestClientError } from './error.ts';
import { pageUrl } from './page-url.ts';

/** The enctype of a form or button: `multipart/form-data`, `text/plain`, else urlencoded. */
export function normaliseEnctype(value: string | null): string {
  const type = (value ?? '').toLowerCase();
  return type === 'multipart/form-data' || type === 'text/plain' ? type : 'application/x-www-form-urlencoded';
}

/**
 * The action `form` is sent to with `submitter` as written: the submitter's `formaction`, which
 * replaces the form's `action` even when empty; `''` (the page itself) when neither has one.
 */
export function givenAction(form: Element, submitter: Control | null): string {
  return (submitter ? attribute(submitter.element, 'formaction') : null) ?? attribute(form, 'action') ?? '';
}

/** HTML's line break normalisation of submitted names and values: CR, LF and CRLF become CRLF. */
const crlf = (text: string) => text.replace(/\r\n|\r|\n/g, '\r\n');

/**
 * `url` with an empty query (`/search?`), its fragment kept: what HTML sets a GET form's action
 * query to when it has no entries, and the `URL.search` setter cannot (`''` removes the `?`).
 */
function withEmptyQuery(url: URL): string {
  const hash = url.hash;
  const at = new URL(url.href);
  at.search = '';
  at.hash = '';
  return `${at.href}?${hash}`;
}

/**
 * The request that submits `list` (the form's entries) from `form` with `submitter`: a GET puts
 * them in the action's query (replacing it; with no entries an empty one, `/search?`, as HTML's
 * "mutate action URL" sets it); a POST sends them urlencoded, as
 * `multipart/form-data` (fields and files in the order of `list`, the controls' order on the
 * page, as browsers send them: HTML §4.10.21.4) or as `text/plain` (that type, no charset, as browsers send it). A file sent by a form that
 * is not multipart sends its name. `options` go along (status, headers…). The action resolves
 * against `at.base`, the page's base URL (its `<base href>`); an empty one is `at.page`, the
 * page's own URL (HTML §4.10.21.3), the non-ASCII text of its query in `at.encoding`, the page's
 * (default UTF-8; see `pageUrl`). A GET's query and a urlencoded body are written in
 * `encoding`, the form's (`formEncoding`: the page's charset, or its `accept-charset`), with
 * no `charset` parameter, as browsers send them, and so are a multipart body's names, filenames
 * and text values (file contents as they are) and a `text/plain` body.
 *
 * @throws TestClientError for the `dialog` method (the form's or the button's `formmethod`): a
 *   browser only closes the form's `<dialog>` then, and sends nothing; and for an encoding this
 *   client cannot write (see `formEncoder`).
 */
/**
 * The method a form (or the button pressing it: its `formmethod`) submits with, as HTML's
 * enumerated `method` attribute reads (§4.10.18.6): `POST`, `DIALOG`, else `GET` (the missing
 * and the invalid value's default).
 */
export function formMethod(form: Element, submitter: Control | null = null): 'GET' | 'POST' | 'DIALOG' {
  const given = ((submitter ? attribute(submitter.element, 'formmethod') : null) ?? attribute(form, 'method') ?? 'get').toLowerCase();
  return given === 'post' ? 'POST' : given === 'dialog' ? 'DIALOG' : 'GET';
}

export function submission(
  form: Element,
  submitter: Control | null,
  list: Array<[string, string | FileSpec]>,
  at: { page: string; base: string; encoding?: string | undefined },
  options: RequestOptions,
  encoding = 'utf-8',
): { method: string; url: string; options: RequestOptions } {
  const override = (name: string) => (submitter ? attribute(submitter.element, name) : null);
  const method = formMethod(form, submitter);
  // The dialog method closes the form's <dialog> (§4.10.21.3, step "If method is dialog"): no request is made.
  if (method === 'DIALOG') throw new TestClientError('the form\'s method is dialog: submitting it closes its <dialog> and sends no request (HTML §4.10.21.3); press another button, or send the request yourself');
  const given = givenAction(form, submitter);
  // Its query in the page's encoding, as a browser parses a URL of the page (page-url.ts).
  const action = given ? pageUrl(given, at.base, at.encoding ?? 'utf-8') : new URL(at.page);
  const enctype = normaliseEnctype(override('formenctype') ?? attribute(form, 'enctype'));
  const multipart = enctype === 'multipart/form-data' && method === 'POST';
  if (multipart) {
    const entries = list.map(([name, value]): [string, string | FileSpec] => [crlf(name), typeof value === 'string' ? crlf(value) : value]);
    // In the form's encoding, names and filenames too, as browsers encode them (HTML's
    // "multipart/form-data encoding algorithm"); its `_charset_` field names it.
    const { body, contentType } = encodeMultipartIn(entries, {}, formEncoder(encoding));
    return { method, url: action.href, options: { ...options, body, headers: [...new HeaderList(options.headers), ['Content-Type', contentType]] } };
  }
  const fields = list.map(([name, value]): [string, string] => [crlf(name), crlf(typeof value === 'string' ? value : value.filename)]);
  if (method === 'GET') {
    action.search = urlencode(fields, encoding);
    return { method, url: action.search === '' ? withEmptyQuery(action) : action.href, options };
  }
  if (enctype === 'text/plain') {
    // In the form's encoding, as HTML's "submit as entity body" encodes it (Firefox and Chromium
    // too); `text/plain`, no charset, as browsers send it (HTML §4.10.21.3).
    const body = formEncoder(encoding)(fields.map(([name, value]) => `${name}=${value}\r\n`).join(''));
    return { method, url: action.href, options: { ...options, body, headers: [...new HeaderList(options.headers), ['Content-Type', 'text/plain']] } };
  }
  if (encoding === 'utf-8') return { method, url: action.href, options: { ...options, form: fields } };
  const body = urlencode(fields, encoding);
  return { method, url: action.href, options: { ...options, body, headers: [...new HeaderList(options.headers), ['Content-Type', 'application/x-www-form-urlencoded']] } };
}
