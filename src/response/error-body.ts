/**
 * The generated body of an HTTP exception: plain text, HTML or JSON, chosen by the request's
 * `Accept` (RFC 9110 §12.5.1), with every user string escaped in HTML. Shared by the exception
 * classes and by the answers `response/` makes itself (412, 416), which cannot use the
 * classes (they are built on `Response`).
 *
 * @module
 */
import type { Body, Environ, StartResponse } from '../gateway/types.ts';
import { skippedByCascade } from '../gateway/cascade-skips.ts';
import { Accept } from '../http/accept.ts';
import { encodeText } from '../http/charset.ts';
import { appendVary } from '../http/header-list.ts';
import { formatMediaType, isTextType } from '../http/media-type.ts';
import { reasonPhrase } from './status.ts';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * The error bodies' types as offered to `Accept`: with the charset they are written in (UTF-8),
 * so a range naming it (`application/json;charset=UTF-8`, what Java clients send) matches, as
 * a range without parameters does; a range naming another charset does not.
 */
const BODY_OFFERS = ['text/plain; charset=utf-8', 'text/html; charset=utf-8', 'application/json; charset=utf-8'];

/**
 * Picks the error body type from `Accept` (see {@link Accept}): `text/plain`, `text/html` or
 * `application/json` (without parameters); plain text without a header, with a malformed one,
 * or when none of the three is acceptable. A range may name the charset `utf-8` (Werkzeug
 * ignores a range's parameters; `negotiator` matches them, so the offers carry it).
 */
export function negotiateBodyType(environ: Environ | undefined): string {
  const accept = environ?.HTTP_ACCEPT;
  const best = new Accept(typeof accept === 'string' ? accept : null).bestMatch(BODY_OFFERS, BODY_OFFERS[0]!);
  return best.slice(0, best.indexOf(';'));
}

/** What an error body shows: the status line, its parts, and the message of this occurrence. */
export interface ErrorDescription {
  readonly code: number;
  readonly title: string;
  readonly status: string;
  readonly description: string;
  readonly detail: string | undefined;
}

/**
 * The body text of `error` in `type` (one of `text/plain`, `text/html`, `application/json`):
 * JSON `{ code, title, message }` (the message defaults to the description), an HTML page with
 * every string escaped, or plain text. A redirect's `location` (the absolute `Location` sent,
 * already made safe) is named too, as WebOb's and Werkzeug's redirect pages and RFC 9110 §15.4
 * have it: a link in HTML, a `location` member in JSON, a line in plain text.
 */
export function errorBody(error: ErrorDescription, type: string, location?: string): string {
  const message = error.detail ?? '';
  if (type === 'application/json') {
    const body = { code: error.code, title: error.title, message: message || error.description };
    return JSON.stringify(location === undefined ? body : { ...body, location });
  }
  if (type === 'text/html') {
    const title = escapeHtml(error.status);
    const link = location === undefined ? '' : `\n<p><a href="${escapeHtml(location)}">${escapeHtml(location)}</a></p>`;
    const detail = message ? `\n<p>${escapeHtml(message)}</p>` : '';
    return (
      `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${title}</title></head>\n` +
      `<body>\n<h1>${escapeHtml(error.title)}</h1>\n<p>${escapeHtml(error.description)}</p>${link}${detail}\n</body>\n</html>\n`
    );
  }
  const link = location === undefined ? '' : `\n${location}\n`;
  return `${error.status}\n\n${error.description}\n${link}${message ? `\n${message}\n` : ''}`;
}

/**
 * A page that replaces a generated error body: the `Response` made by the `errorPages`
 * middleware (typed by what serving needs, as this layer sits below `Response`).
 */
export interface ErrorPage {
  respond(environ: Environ, startResponse: StartResponse): Body;
}

/**
 * What the `errorPages` middleware puts in the environ under {@link ERROR_PAGES_KEY}: asked for
 * the page of an error generated for this request, it answers one, or `undefined` to keep the
 * generated body. `error` is the `HTTPException` being answered, or, for the answers this layer
 * builds itself (412, 416), its description and `fields` (the exception classes sit above this
 * layer); `req` is what `getResponse` was given (a `Request`, or the environ).
 */
export type ErrorPageHook = (
  error: ErrorDescription,
  environ: Environ,
  req: object | undefined,
  fields: ReadonlyArray<[string, string]> | undefined,
) => ErrorPage | undefined;

/** The environ key of the {@link ErrorPageHook} (the toolkit's keys are `tsgi.` + snake_case). */
export const ERROR_PAGES_KEY = 'tsgi.error_pages';

/**
 * The custom page of `error` for this request: what the {@link ErrorPageHook} installed by
 * `errorPages` answers, or `undefined` when there is none (then the cost is one environ
 * read), when it keeps the generated body, or when a `cascade` will skip an answer of that
 * status (see `skippedByCascade`: the renderer runs only for the pages sent). Called only
 * where an error body is generated.
 */
export function customErrorPage(
  environ: Environ | undefined,
  error: ErrorDescription,
  req?: object,
  fields?: ReadonlyArray<[string, string]>,
): ErrorPage | undefined {
  const hook = environ?.[ERROR_PAGES_KEY] as ErrorPageHook | undefined;
  // A page a cascade skips is never rendered: the renderer runs only for the pages sent.
  if (hook === undefined || skippedByCascade(environ!, error.code)) return undefined;
  return hook(error, environ!, req, fields);
}

/**
 * Serves the generated error body of status `code` through `startResponse`, without a
 * `Response`: the status line with its standard reason phrase, then `fields`, then
 * `Content-Type` (UTF-8 for the text types), `Content-Length` and `Accept` added to the
 * `Vary` of `fields` (once, and not past `Vary: *`) — the bytes
 * and fields, in that order, of `HTTPException.getResponse` for an exception of that status
 * and `description` without a detail. A HEAD request gets an empty body. The request's
 * custom page ({@link customErrorPage}) is served instead when there is one.
 *
 * @param fields - header fields sent first (e.g. the `Content-Range` of a 416).
 * @returns the body: one chunk, or none for HEAD.
 * @throws what `startResponse` throws.
 */
export function serveErrorBody(
  code: number,
  description: string,
  fields: Array<[string, string]>,
  environ: Environ,
  startResponse: StartResponse,
): Body {
  const title = reasonPhrase(code);
  const status = `${code} ${title}`;
  const error: ErrorDescription = { code, title, status, description, detail: undefined };
  const page = customErrorPage(environ, error, undefined, fields);
  if (page !== undefined) return page.respond(environ, startResponse);
  const type = negotiateBodyType(environ);
  const bytes = encodeText(errorBody(error, type));
  const contentType = formatMediaType(type, isTextType(type) ? { charset: 'utf-8' } : {});
  fields.push(['Content-Type', contentType], ['Content-Length', String(bytes.byteLength)]);
  // Added to the fields' own `Vary` once, not past `*`, as `getResponse` adds it (`addVary`).
  appendVary(fields, 'Accept');
  startResponse(status, fields);
  return environ.REQUEST_METHOD === 'HEAD' ? [] : [bytes];
}
