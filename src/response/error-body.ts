/**
 * The generated body of an HTTP exception: plain text, HTML or JSON, chosen by the request's
 * `Accept` (RFC 9110 §12.5.1), with every user string escaped in HTML.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { Accept } from '../http/accept.ts';

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

const BODY_TYPES = ['text/plain', 'text/html', 'application/json'];

/**
 * Picks the error body type from `Accept` (see {@link Accept}): plain text, HTML or JSON;
 * plain text without a header, with a malformed one, or when none of the three is acceptable.
 */
export function negotiateBodyType(environ: Environ | undefined): string {
  const accept = environ?.HTTP_ACCEPT;
  return new Accept(typeof accept === 'string' ? accept : null).bestMatch(BODY_TYPES, 'text/plain');
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
 * every string escaped, or plain text.
 */
export function errorBody(error: ErrorDescription, type: string): string {
  const message = error.detail ?? '';
  if (type === 'application/json') {
    return JSON.stringify({ code: error.code, title: error.title, message: message || error.description });
  }
  if (type === 'text/html') {
    const title = escapeHtml(error.status);
    const detail = message ? `\n<p>${escapeHtml(message)}</p>` : '';
    return (
      `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${title}</title></head>\n` +
      `<body>\n<h1>${escapeHtml(error.title)}</h1>\n<p>${escapeHtml(error.description)}</p>${detail}\n</body>\n</html>\n`
    );
  }
  return `${error.status}\n\n${error.description}\n${message ? `\n${message}\n` : ''}`;
}
