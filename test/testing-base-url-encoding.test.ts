/**
 * A page's `<base href>` with non-ASCII text, read as a browser reads it (HTML §4.2.3, "set the
 * frozen base URL": the href parsed with the document's character encoding): its path in UTF-8,
 * as any URL's, its query in the page's encoding. Links and actions that keep the base URL's
 * query (`#top`, an empty `href`, an action `#sent`) send it so.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const ascii = (text: string) => [...new TextEncoder().encode(text)];

/** Serves `page` (bytes, `charset`) at `/`, anything else an empty page. */
const appWith = (page: number[], charset: string) =>
  Request.application((req) =>
    req.pathInfo === '/' ? new Response(new Uint8Array(page), { headers: { 'Content-Type': `text/html; charset=${charset}` } }) : new Response('', { contentType: 'text/plain' }),
  );

/** 東京 in Shift_JIS. */
const TOKYO = [0x93, 0x8c, 0x8b, 0x9e];

/**
 * A page whose base is `/` `word` `/list?q=` `word` (`word`: octets in the page's encoding), with
 * links and a form that keep its query, and a link that does not.
 */
const pageWith = (word: number[]) => [
  ...ascii('<!doctype html><title>t</title><base href="/'),
  ...word,
  ...ascii('/list?q='),
  ...word,
  ...ascii('"><a href="#top">Top</a><a href="">Here</a><a href="more">More</a>'),
  ...ascii('<form method="post" action="#sent"><input name="n" value="1"></form>'),
];

describe('a <base href> with non-ASCII text', () => {
  it('in a windows-1252 page: its path in UTF-8, its query in windows-1252', async () => {
    const res = await new TestClient(appWith(pageWith([0xe9]), 'windows-1252')).get('/'); // é
    const base = 'http://localhost/%C3%A9/list?q=%E9';
    expect((await res.click('Top')).url).toBe(base);
    expect((await res.click('Here')).url).toBe(base);
    expect((await res.click('More')).url).toBe('http://localhost/%C3%A9/more');
    expect(res.form().action).toBe(`${base}#sent`);
    expect((await res.form().submit()).url).toBe(base);
  });

  it('in a Shift_JIS page: its path in UTF-8, its query in Shift_JIS', async () => {
    const res = await new TestClient(appWith(pageWith(TOKYO), 'Shift_JIS')).get('/');
    const base = 'http://localhost/%E6%9D%B1%E4%BA%AC/list?q=%93%8C%8B%9E';
    expect((await res.click('Top')).url).toBe(base);
    expect(res.form().action).toBe(`${base}#sent`);
    expect((await res.form().submit()).url).toBe(base);
  });

  it('in a UTF-8 page: all of it in UTF-8', async () => {
    const res = await new TestClient(appWith(pageWith(ascii('\u00e9')), 'utf-8')).get('/');
    expect((await res.click('Top')).url).toBe('http://localhost/%C3%A9/list?q=%C3%A9');
  });
});
