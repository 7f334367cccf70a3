/**
 * `form.action` of a page in an East Asian multi-byte encoding (Shift_JIS) reads its query in
 * that encoding as soon as the client answers the page: the same whether or not an earlier
 * `submit()` or `click()` in the process had loaded iconv-lite, which writes it. Its own file:
 * a test before it in the same module graph would have loaded it.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

/** 東京 in Shift_JIS. */
const TOKYO = [0x93, 0x8c, 0x8b, 0x9e];

const ascii = (text: string) => [...new TextEncoder().encode(text)];
const page = new Uint8Array([...ascii('<!doctype html><title>t</title><form action="/save?city='), ...TOKYO, ...ascii('"><input name="q"></form>')]);
const app = Request.application(() => new Response(page, { headers: { 'Content-Type': 'text/html; charset=Shift_JIS' } }));

describe('form.action of a Shift_JIS page', () => {
  it('is read before anything was submitted, its query in Shift_JIS', async () => {
    const res = await new TestClient(app).get('/');
    expect(res.form().action).toBe('http://localhost/save?city=%93%8C%8B%9E');
  });
});
