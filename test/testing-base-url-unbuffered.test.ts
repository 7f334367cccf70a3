/**
 * The `<base href>` query of a Shift_JIS page read with `buffered: false` (a streamed page,
 * read whole by the test), before anything in the process loaded iconv-lite, which writes it:
 * `click()` and `submit()` load it first, and `form.action` throws a `TestClientError` saying so
 * until then, instead of failing on the missing encoder. Its own file: a
 * test before it in the same module graph would have loaded it.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';

/** 東京 in Shift_JIS. */
const TOKYO = [0x93, 0x8c, 0x8b, 0x9e];

const ascii = (text: string) => [...new TextEncoder().encode(text)];
const page = new Uint8Array([
  ...ascii('<!doctype html><title>t</title><base href="/list?q='),
  ...TOKYO,
  ...ascii('"><a href="#top">Top</a><form method="post" action="#sent"><input name="n" value="1"></form>'),
]);
/** The page at `/`, streamed in two chunks (so `buffered: false` leaves it live); anything else an empty answer. */
const app: App = (environ, startResponse) => {
  if (environ.PATH_INFO !== '/') return Request.application(() => new Response(''))(environ, startResponse);
  startResponse('200 OK', [['Content-Type', 'text/html; charset=Shift_JIS']]);
  return (async function* () {
    yield page.subarray(0, 10);
    yield page.subarray(10);
  })();
};

describe('the <base href> of a Shift_JIS page read with buffered: false', () => {
  it('is resolved once iconv-lite is loaded: form.action refuses before, click() and submit() load it', async () => {
    const res = await new TestClient(app).get('/', { buffered: false });
    await res.text();
    expect(() => res.form().action).toThrow(TestClientError);
    expect((await res.click('Top')).url).toBe('http://localhost/list?q=%93%8C%8B%9E');
    expect(res.form().action).toBe('http://localhost/list?q=%93%8C%8B%9E#sent');
    expect((await res.form().submit()).url).toBe('http://localhost/list?q=%93%8C%8B%9E');
  });
});
