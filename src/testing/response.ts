/**
 * The test client's answer: a `Response` with the request it answers, the redirects before
 * it, what the app logged, and the page's forms and links (WebTest's `TestResponse`).
 *
 * @module
 */
import { Response } from '../response/response.ts';
import { bytesOnly } from '../response/text-chunks.ts';
import type { Request } from '../request/request.ts';
import { REQUEST_OPTIONS, type RequestOptions } from './options.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import type { Answer } from './exchange.ts';
import { type Document, type PageElement, elementView, parseHtml, select, visibleText } from './html.ts';
import { HtmlForm, type Send } from './form.ts';
import { LINK_QUERY, type LinkQuery, findLink } from './links.ts';
import { TestClientError } from './error.ts';
import { openBody } from '../gateway/body.ts';
import { type ReceivedEvent, parseEventStream } from './event-stream.ts';
import { decodedBody } from '../proxy/decode-content.ts';
import { pageEncoding } from './page-encoding.ts';
import { documentBaseLoading, documentBaseUrl, pageUrl, pageUrlLoading } from './page-url.ts';

/** The keys of `res.click`'s query: a {@link LinkQuery}'s and a request's options. */
const CLICK_OPTIONS = { ...LINK_QUERY, ...REQUEST_OPTIONS } as const satisfies OptionNames<LinkQuery & RequestOptions>;

/** What a {@link TestResponse} knows of its exchange (set by the client). */
export interface ExchangeContext {
  request: Request;
  url: string;
  history: TestResponse[];
  /** The 103 Early Hints sent before the answer: one list of fields each. */
  earlyHints: ReadonlyArray<Array<[string, string]>>;
  /** What was logged so far (read again as a streamed body goes on). */
  readonly errors: string;
  send: Send<TestResponse>;
  follow: (options: RequestOptions) => Promise<TestResponse>;
}

const textMatches = (text: string, wanted: string | RegExp) => (typeof wanted === 'string' ? text.includes(wanted) : wanted.test(text));

const CONTEXT = new WeakMap<TestResponse, ExchangeContext>();
const DOCUMENTS = new WeakMap<TestResponse, Document>();

/**
 * The {@link TestResponse} of an answer and its exchange (the client's part): the status,
 * headers and body as received (a body still being produced is the response's stream),
 * `Content-Length` only when the answer had one.
 */
export function testResponse(answer: Answer, context: ExchangeContext): TestResponse {
  const res = new TestResponse(null, { status: answer.status, headers: answer.headers, contentType: null });
  const declared = answer.headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1] ?? null;
  res.body = answer.body instanceof Uint8Array ? answer.body : bytesOnly(answer.body);
  if (declared === null) res.headers.delete('content-length');
  else res.headers.set('Content-Length', declared);
  CONTEXT.set(res, context);
  return res;
}

/** A body in memory as chunks: itself, or none when empty. */
async function* inMemory(body: Uint8Array): AsyncGenerator<Uint8Array, void, undefined> {
  if (body.byteLength !== 0) yield body;
}

function contextOf(res: TestResponse): ExchangeContext {
  const context = CONTEXT.get(res);
  if (!context) throw new TestClientError('this response did not come from a TestClient');
  return context;
}

/**
 * An answer of {@link TestClient}: a `Response` (`status`, `statusCode`, `headers`, every
 * typed header attribute, `await res.text()`, `json()`, `bytes()`) whose body has been read
 * whole (or, with `buffered: false`, is read as it comes: `for await (const chunk of res)`,
 * `res.close()`), plus what a test needs next:
 *
 * - `res.request`, `res.url`: the request as the app received it;
 * - `res.history`: the redirects followed to get here, oldest first (Werkzeug's `history`);
 * - `res.errors`: what the app wrote to `tsgi.errors` (WebTest's `res.errors`);
 * - `res.select(css)`, `res.forms`, `res.form(…)`, `res.click(…)`, `res.follow()`: the page
 *   as HTML, parsed by parse5 as a browser parses it, and the next request made from it.
 */
export class TestResponse extends Response {
  /** The request the app answered (its environ as the app received it). */
  get request(): Request {
    return contextOf(this).request;
  }

  /**
   * The URL asked for, as the app saw it: at the host a `Host` field named, when the call sent
   * one; without a fragment, which is never sent (as `fetch()`'s `Response.url`). The page's
   * forms and links resolve against it.
   */
  get url(): string {
    return contextOf(this).url;
  }

  /** The redirect answers followed before this one, oldest first (empty when none). */
  get history(): readonly TestResponse[] {
    return contextOf(this).history;
  }

  /**
   * The `103 Early Hints` responses the app sent before this answer (`req.sendEarlyHints`,
   * `tsgi.early_hints`), in order, each as its `[name, value]` fields:
   * `[[['Link', '</style.css>; rel=preload; as=style']]]`. Empty when none. Recorded as
   * `serve()` sends them: not for hints without a `Link`, after the final head, or with an
   * `environ` option that makes `SERVER_PROTOCOL` `HTTP/1.0`.
   */
  get earlyHints(): ReadonlyArray<Array<[string, string]>> {
    return contextOf(this).earlyHints;
  }

  /**
   * The text the app and its middleware wrote to `tsgi.errors` (`''` when none); with
   * `buffered: false`, what they wrote so far.
   */
  get errors(): string {
    return contextOf(this).errors;
  }

  /**
   * The whole body as bytes (see `Response.bytes`): a body still streamed (`buffered: false`)
   * is read to its end first, its `Content-Length` left as received.
   *
   * @throws (rejects with) TestClientError when the body is cut, or the app wrote to
   *   `tsgi.errors` while producing it (without `allowErrors`).
   */
  override async bytes(): Promise<Uint8Array> {
    if (!this.isStreamed()) return this.body as Uint8Array;
    const declared = this.headers.get('content-length');
    const bytes = await super.bytes();
    if (declared === null) this.headers.delete('content-length');
    return bytes;
  }

  /**
   * The body's chunks as they come (Werkzeug's `response.response`): with `buffered: false`
   * the app's body itself, read as it is produced; else the bytes in memory, as one chunk.
   * Leaving a `for await` early closes the app's body with `return()`, as {@link TestResponse.close}.
   *
   * @throws (the iteration rejects with) TestClientError when the body is cut, or the app
   *   wrote to `tsgi.errors` while producing it (without `allowErrors`).
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const body = this.body;
    return body instanceof Uint8Array ? inMemory(body) : (openBody(body) as AsyncIterator<Uint8Array>);
  }

  /**
   * The events of a server-sent event stream (`text/event-stream`, `Response.eventStream`), as a
   * browser's `EventSource` dispatches them: `{ type, data, lastEventId }` (HTML Living Standard
   * §9.2.6: comments, pings and `retry:` dispatch nothing, several `data:` lines join with LF,
   * an event the stream ends in the middle of is dropped). With `buffered: false` each comes as
   * the app produces it; leaving the `for await` early closes the app's body (`return()`, its
   * `finally` runs, `tsgi.signal` aborts), as a browser's `close()` does.
   *
   * @example
   * ```ts
   * const res = await client.get('/prices', { buffered: false });
   * for await (const event of res.events()) {
   *   expect(event.type).toBe('price');
   *   break; // the app's generator is closed
   * }
   * ```
   * A stream sent with a `Content-Encoding` (`compress` answers one when the request's
   * `Accept-Encoding` asks) is decoded first, as Chromium decodes it: gzip (its first member
   * only, whatever follows), deflate, br, zstd (bytes after its last frame that start none fail
   * the iteration).
   *
   * @throws TestClientError when the response is not `text/event-stream`, or is sent in another
   *   coding; (the iteration rejects
   *   with) TestClientError when the body is cut, or the app wrote to `tsgi.errors` (without
   *   `allowErrors`).
   */
  events(): AsyncGenerator<ReceivedEvent, void, undefined> {
    const type = this.headers.get('content-type') ?? '';
    if (!/^text\/event-stream\s*(;|$)/i.test(type)) {
      throw new TestClientError(`res.events(): not an event stream (Content-Type: ${JSON.stringify(type)})`);
    }
    const coding = this.headers.getAll('content-encoding').join(', ').trim();
    if (coding === '' || coding.toLowerCase() === 'identity') return parseEventStream(this);
    // A browser decodes the content coding before its EventSource parses (`compress` sends one).
    const decoded = decodedBody(this, coding);
    if (decoded === null) throw new TestClientError(`res.events(): the stream is sent with Content-Encoding ${JSON.stringify(coding)}, which a browser cannot decode`);
    return parseEventStream(decoded);
  }

  /**
   * Closes a body still streamed (`buffered: false`) as a client that hangs up (Werkzeug's
   * `response.close()`): the app's body is closed with `return()` (its `finally` runs) and
   * `tsgi.signal` aborted. Settles once the app's `return()` has; does nothing for a body
   * read whole or already closed.
   *
   * @throws (rejects with) TestClientError when the app wrote to `tsgi.errors` (without
   *   `allowErrors`) while its body was read or closed; LintError when the app left a body open.
   */
  async close(): Promise<void> {
    const body = this.body;
    if (body instanceof Uint8Array) return;
    const iterator = openBody(body) as AsyncIterator<Uint8Array>;
    await iterator.return?.();
  }

  /**
   * The body decoded as text in the page's encoding, as a browser reads it, synchronously: the
   * `charset` of its `Content-Type`; else, for an HTML page, the one a byte order mark or a
   * `<meta charset>` (`<meta http-equiv="Content-Type" content="…; charset=…">`) in its first
   * 1024 bytes declares (WHATWG HTML §13.2.3.2); else windows-1252 for a `text/html` page whose
   * first 1024 bytes are not UTF-8 (§13.2.3.1, the legacy default); else UTF-8. A charset the
   * platform does not know counts as none.
   *
   * @throws TestClientError while the body is streamed (`buffered: false`): `await res.text()`
   *   reads it whole first.
   */
  get textBody(): string {
    const body = this.body;
    if (!(body instanceof Uint8Array)) {
      throw new TestClientError(`${this.url}: the body is streamed (buffered: false): read it whole first, with await res.text() or res.bytes()`, {
        response: this,
      });
    }
    try {
      return new TextDecoder(pageEncoding(this.headers.get('content-type'), body)).decode(body);
    } catch {
      return new TextDecoder().decode(body); // one no decoder reads (`replacement`): UTF-8
    }
  }

  /**
   * The whole body as text, read as {@link textBody} reads it (in the page's encoding, which a
   * `<meta charset>` may declare), once {@link bytes} has read a streamed body to its end.
   *
   * @throws (rejects with) what `bytes()` throws.
   */
  override async text(): Promise<string> {
    await this.bytes();
    return this.textBody;
  }

  #document(): Document {
    let document = DOCUMENTS.get(this);
    if (!document) {
      document = parseHtml(this.textBody);
      DOCUMENTS.set(this, document);
    }
    return document;
  }

  /**
   * The elements of the page that match a CSS selector, as plain views (tag, attributes,
   * text).
   *
   * @throws SyntaxError for an invalid selector.
   */
  select(selector: string): PageElement[] {
    return select(this.#document(), selector).map(elementView);
  }

  /** Every `<form>` of the page, in order (WebTest's `res.forms`); each read gives fresh forms with the page's values. */
  get forms(): Array<HtmlForm<TestResponse>> {
    const { send, url } = contextOf(this);
    const document = this.#document();
    // The page's encoding, as `textBody` decoded it: a form is submitted in it.
    const encoding = pageEncoding(this.headers.get('content-type'), this.body as Uint8Array);
    return select(document, 'form').map((form) => new HtmlForm(document, form, url, send, encoding));
  }

  /**
   * One form of the page: the only one (no argument), the `index`-th, the one a CSS
   * selector matches (`'#login'`, `'form[action="/search"]'`), or `{ text }`: the one whose
   * text or submit button label contains it (a RegExp matches), as a reader finds a form.
   *
   * @throws TestClientError when there is no such form, or several and nothing to choose.
   */
  form(which?: string | number | { text: string | RegExp }): HtmlForm<TestResponse> {
    const forms = this.forms;
    let found: Array<HtmlForm<TestResponse>>;
    if (which === undefined) found = forms;
    else if (typeof which === 'number') found = forms.slice(which, which + 1);
    else if (typeof which === 'string') {
      const chosen = select(this.#document(), which).find((element) => element.name === 'form');
      found = forms.filter((f) => f.element === chosen);
    } else found = forms.filter((f) => textMatches(`${visibleText(f.element)} ${f.buttonLabels.join(' ')}`, which.text));
    if (found.length !== 1) {
      const what = which === undefined ? 'the page' : `${typeof which === 'object' ? `text ${which.text}` : JSON.stringify(which)}`;
      throw new TestClientError(`${found.length} of the page's ${forms.length} form(s) match ${what}: name one (index, selector or { text })`, { response: this });
    }
    return found[0]!;
  }

  /**
   * Follows a link of the page with a GET, as a click does (WebTest's `res.click`): the link
   * whose text contains `text` (or matches a RegExp), narrowed by `query` (`href`,
   * `selector`, `index`), its `href` resolved against the page's `<base href>` if any (HTML
   * §2.4.1), the non-ASCII text of its query in the page's encoding (a Shift_JIS page's
   * `?q=東京` as `?q=%93%8C%8B%9E`), as a browser parses it. Sent as a browser's navigation from this page (`from`: the
   * `Sec-Fetch-*` fields, the cookies `SameSite` lets through).
   *
   * @throws TestClientError when no link or several links match (see `findLink`); TypeError
   *   for a `query` key that is neither a {@link LinkQuery}'s nor a request option's
   *   (`res.click: unknown option "hrf": did you mean "href"?`); (rejects with) TestClientError
   *   for a query with non-ASCII text in a page encoding this client cannot write (`iso-2022-jp`).
   */
  click(text?: string | RegExp, query: LinkQuery & RequestOptions = {}): Promise<TestResponse> {
    checkOptions('res.click', query, CLICK_OPTIONS);
    const { text: queryText, href, selector, index, ...options } = query;
    const target = findLink(this.#document(), { text: text ?? queryText, href, selector, index });
    const { send, url } = contextOf(this);
    // Resolved against the page's base URL (its `<base href>`, HTML §2.4.1), its query in the
    // page's encoding, as a browser resolves it (iconv-lite loaded first for Shift_JIS, Big5…).
    const encoding = pageEncoding(this.headers.get('content-type'), this.body as Uint8Array);
    const document = this.#document();
    // A browser's navigation from this page (see RequestOptions.from).
    const go = () => send('GET', pageUrl(target, documentBaseUrl(document, url, encoding), encoding).href, { ...options, from: options.from ?? url });
    const loading = pageUrlLoading(target, encoding) ?? documentBaseLoading(document, encoding);
    return loading === null ? go() : loading.then(go);
  }

  /**
   * Follows this answer's redirect (WebTest's `res.follow()`) as `fetch()` does: a 303, and a
   * 301 or 302 after a POST, with a GET (a HEAD stays HEAD) and no body; any other with the same
   * method and body (a PUT, DELETE or PATCH across a 301 or 302 too). The status expected and
   * the redirects followed are those of `options`, else the client's defaults, never those of
   * the call that got this answer (its `{ status: 302 }` was about the redirect).
   *
   * @throws TestClientError (rejects) when this is not a redirect with a `Location`, or is a
   *   redirect other than a 303 to a call whose body was streamed (it cannot be sent again,
   *   and `fetch()` fails such a redirect); TypeError
   *   (rejects) for options that are not a plain object or hold an unknown key.
   */
  follow(options: RequestOptions = {}): Promise<TestResponse> {
    try {
      checkOptions('res.follow', options, REQUEST_OPTIONS, 'first');
    } catch (error) {
      return Promise.reject(error);
    }
    return contextOf(this).follow(options);
  }
}
