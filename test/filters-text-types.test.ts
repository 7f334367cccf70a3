/**
 * Which responses `replaceText` rewrites by default, over a real socket on 127.0.0.1: every
 * JavaScript MIME type (WHATWG MIME Sniffing §4.6, "JavaScript MIME type"), the legacy
 * `application/x-javascript` that old servers' mime.types still send included, and not a type
 * that is no text.
 */
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { replaceText } from 'tsgi/proxy';
import { servedBody } from './filter-helpers.ts';

const SCRIPT = 'var api = "http://old.example.com/api";';

/** An app answering SCRIPT as `type`. */
function script(type: string): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', type]]);
    return [Buffer.from(SCRIPT)];
  };
}

/** The body `replaceText` sends for a SCRIPT served as `type`, over a socket. */
const replaced = (type: string): Promise<string> =>
  servedBody(replaceText(script(type), { replacements: [['http://old.example.com', 'https://www.example.com/legacy']] }));

describe('replaceText: the default types', () => {
  it('rewrites JavaScript served under any of its MIME types, application/x-javascript included', async () => {
    for (const type of ['application/javascript', 'application/x-javascript; charset=utf-8', 'application/ecmascript', 'application/x-ecmascript', 'text/javascript']) {
      expect(await replaced(type), type).toBe('var api = "https://www.example.com/legacy/api";');
    }
  });

  it('leaves a type that is no text alone', async () => {
    expect(await replaced('application/octet-stream')).toBe(SCRIPT);
  });
});
