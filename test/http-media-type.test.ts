/**
 * Media types (src/http/media-type.ts): `parseMediaType` answers `type/subtype` or `''`, never
 * the garbage a malformed `Content-Type` holds, and so do `req.contentType` (over a socket)
 * and `res.contentType`.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { formatMediaType, parseMediaType } from 'tsgi/http';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const GARBAGE = ['text/', 'a, b', '/x', 'text/html/x', 'garbage', 'text/ html', 'text/h\u00e9ml', 'a, b; charset=utf-8'];

describe('parseMediaType', () => {
  it.each(GARBAGE)('answers no type for %j', (value) => {
    expect(parseMediaType(value).type).toBe('');
  });

  it('keeps a well-formed type and the well-formed parameters of a malformed value', () => {
    expect(parseMediaType(' TEXT/HTML ; charset=UTF-8; junk')).toEqual({ type: 'text/html', parameters: { charset: 'UTF-8' } });
    expect(parseMediaType('text/, b; charset=x').parameters).toEqual({ charset: 'x' });
    expect(parseMediaType('application/vnd.api+json').type).toBe('application/vnd.api+json');
  });
});

describe('contentType of a malformed Content-Type', () => {
  it('req.contentType is empty over a socket', async () => {
    const seen: string[] = [];
    const server = await start(
      Request.application((req) => {
        seen.push(req.contentType);
        return new Response('ok');
      }),
    );
    for (const value of ['text/', 'a, b', 'text/html/x']) {
      const raw = await rawExchange(server.port, rawGet('/', `Content-Type: ${value}\r\n`));
      expect(parseRaw(raw.raw).status).toBe(200);
    }
    expect(seen).toEqual(['', '', '']);
  });

  it('res.contentType is empty, and setting its charset still says the type is not one', () => {
    const res = new Response('x', { headers: { 'Content-Type': 'text/html/x' } });
    expect(res.contentType).toBe('');
    expect(() => {
      res.charset = 'utf-8';
    }).toThrow(/Content-Type "text\/html\/x" is not a media type \(set contentType first\)/);
    expect(() => new Response('x', { headers: { 'Content-Type': 'garbage' }, charset: 'latin1' })).toThrow(/is not a media type/);
    const empty = new Response('x', { headers: { 'Content-Type': '' } });
    empty.charset = 'utf-8';
    expect(empty.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });
});

describe('formatMediaType', () => {
  it('refuses a parameter name given twice in other case (charset and Charset), naming it, instead of a Content-Type res.contentType refuses as repeated', () => {
    expect(() => formatMediaType('text/html', { charset: 'utf-8', Charset: 'latin1' })).toThrow(TypeError);
    expect(() => formatMediaType('text/html', { charset: 'utf-8', Charset: 'latin1' })).toThrow(/parameter "Charset" is given twice/);
    expect(formatMediaType('text/html', { Charset: 'utf-8' })).toBe('text/html; Charset=utf-8');
    expect(parseMediaType(formatMediaType('multipart/form-data', { boundary: 'a b' })).parameters.boundary).toBe('a b');
  });
});
