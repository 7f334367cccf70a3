/**
 * The media types the text filters read by default ({@link isTextType}): what `replaceText`
 * replaces in and `decodeContent` decodes for them.
 *
 * @module
 */
import { isJsonLinesType } from './json-lines.ts';

/**
 * The JavaScript MIME types outside `text/*` (WHATWG MIME Sniffing §4.6): the legacy
 * `application/x-javascript`, which old servers' mime.types still send for `.js`, among them.
 */
const JAVASCRIPT: ReadonlySet<string> = new Set(['application/javascript', 'application/ecmascript', 'application/x-javascript', 'application/x-ecmascript']);

/**
 * Whether `type` (a lower-case essence, `text/html`, without parameters) is text the filters
 * read: `text/*` (HTML included), JSON and `+json`, line-delimited JSON, JavaScript, XML and
 * `+xml` (XHTML included).
 */
export function isTextType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type === 'application/json' || type.endsWith('+json') ||
    JAVASCRIPT.has(type) ||
    type === 'application/xml' || type.endsWith('+xml') ||
    isJsonLinesType(type)
  );
}
