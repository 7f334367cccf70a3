/**
 * The date views of a `Request` (`ifModifiedSince`, `ifUnmodifiedSince`, the date of
 * `ifRange`) and of a `Response` (`lastModified`, `date`, `expires`) answer a new `Date` per
 * read, as WebOb's and Werkzeug's datetimes are immutable: a handler changing the one it was
 * given changes nothing another read sees, nor what a conditional response answers (socket).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { request, start } from './node-helpers.ts';

const MODIFIED = new Date(Date.UTC(2024, 0, 1, 12, 0, 0));
const SENT = MODIFIED.toUTCString();

/** Changes each Date a view answers, then reads the views again. */
const app = Request.application((req) => {
  req.ifModifiedSince?.setTime(0);
  req.ifUnmodifiedSince?.setUTCHours(0);
  const range = req.ifRange;
  if (range instanceof Date) range.setUTCFullYear(1999);
  const res = new Response('article', { conditionalResponse: true });
  res.lastModified = MODIFIED;
  res.expires = MODIFIED;
  res.lastModified!.setTime(0);
  res.expires!.setUTCFullYear(1999);
  res.headers.set('X-Seen', JSON.stringify({
    ifModifiedSince: req.ifModifiedSince?.toUTCString() ?? null,
    ifUnmodifiedSince: req.ifUnmodifiedSince?.toUTCString() ?? null,
    ifRange: req.ifRange instanceof Date ? req.ifRange.toUTCString() : null,
    fresh: req.ifModifiedSince === req.ifModifiedSince ? 'same object' : 'new per read',
    lastModified: res.lastModified?.toUTCString() ?? null,
    expires: res.expires?.toUTCString() ?? null,
  }));
  return res;
});

describe('a Date a view answered, changed by the handler', () => {
  it('changes nothing later reads see, and a conditional GET answers as the header says (socket)', async () => {
    const server = await start(app);
    const res = await request(`${server.url}/`, {
      headers: { 'if-modified-since': SENT, 'if-unmodified-since': SENT },
    });
    expect(res.status).toBe(304);
    expect(res.headers['last-modified']).toBe(SENT);
    expect(res.headers.expires).toBe(SENT);
    expect(JSON.parse(res.headers['x-seen'] as string)).toEqual({
      ifModifiedSince: SENT,
      ifUnmodifiedSince: SENT,
      ifRange: null,
      fresh: 'new per read',
      lastModified: SENT,
      expires: SENT,
    });

    const ranged = await request(`${server.url}/`, { headers: { 'if-range': SENT, range: 'bytes=0-2' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body.toString()).toBe('art');
    expect(JSON.parse(ranged.headers['x-seen'] as string).ifRange).toBe(SENT);
  });
});
