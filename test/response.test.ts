import { inspect } from 'node:util';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Body, HeaderList, Request, Response, type ResponseBody, type StartResponse } from 'tsgi';
import { reasonPhrase } from 'tsgi/http';
import { lint } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Calls `res.respond` and collects what startResponse got and the body. */
async function serve(res: Response, method = 'GET') {
  const calls: Array<[string, Array<[string, string]>]> = [];
  const start: StartResponse = (status, headers) => {
    calls.push([status, headers.map(([n, v]) => [n, v] as [string, string])]);
  };
  const body: Body = res.respond(Request.blank('/', { method }).environ, start);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return { calls, text: chunks.map((c) => dec.decode(c)).join(''), chunks };
}

function parseSetCookie(line: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of line.split('; ').slice(1)) {
    const eq = part.indexOf('=');
    if (eq === -1) out[part] = true;
    else out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

describe('Response: construction and status', () => {
  it('refuses at once a Content-Length kept for a stream that is not a number, and a cookie value that is not Unicode', () => {
    expect(() => new Response([enc.encode('x')], { headers: { 'Content-Length': 'abc' } })).toThrow(TypeError);
    expect(new Response([enc.encode('x')], { headers: { 'Content-Length': ' 1 ' } }).headers.get('content-length')).toBe('1');
    expect(() => new Response('x').setCookie('a', '\ud800')).toThrow(TypeError);
  });

  it('names the cookie and the rule when setCookie refuses a name or an attribute', () => {
    expect(() => new Response('x').setCookie('user id', '1')).toThrow(
      new TypeError('cookie "user id": the name may hold no spaces, controls, ";", "=" or non-ASCII characters (write letters, digits and !#$%&\'*+-.^_`|~, an RFC 6265 token)'),
    );
    expect(() => new Response('x').setCookie('', '1')).toThrow(new TypeError('cookie "": the name is empty'));
    // What the message does not name is taken (the `cookie` package's rule, RFC 6265bis §5.6), as before.
    for (const name of ['a(b)', 'a/b', 'a@b', 'a,b', 'a:b', '"q"']) expect(new Response('x').setCookie(name, '1').headers.get('set-cookie')).toBe(`${name}=1; Path=/`);
    expect(() => new Response('x').setCookie('a', '1', { path: '/a;b' })).toThrow(new TypeError('cookie "a": option path is invalid: /a;b'));
    // A value a custom encode leaves unfit is not written out (an email, a token would reach the log), nor its cause.
    let refused: unknown;
    try {
      new Response('x').setCookie('prefs', '{"email": "ann@example.com"}', { encode: (v) => v });
    } catch (error) {
      refused = error;
    }
    expect(refused).toEqual(new TypeError('cookie "prefs": the encoded value holds a space, a control, ";" or a non-ASCII character, which a cookie cannot carry: check the encode option'));
    expect(inspect(refused)).not.toContain('ann@example.com');
  });

  it('refuses at once a JSON value with no JSON form, and a reason phrase past U+00FF', () => {
    for (const value of [undefined, () => 1, Symbol('s')]) expect(() => Response.json(value)).toThrow(TypeError);
    expect(Response.json(null).body).toEqual(enc.encode('null'));
    const res = new Response('x');
    expect(() => (res.status = '200 \u0100kay')).toThrow(TypeError);
    res.status = '200 caf\xe9';
    expect(res.status).toBe('200 caf\xe9');
  });

  it('Response.json refuses a charset other than UTF-8, which no application/json could declare (RFC 8259 §8.1)', async () => {
    expect(() => Response.json({ a: 'é' }, { charset: 'utf-16le' })).toThrow(new TypeError('Response.json writes UTF-8 (RFC 8259 §8.1), not "utf-16le": leave charset out'));
    expect(() => Response.json([1], { charset: 'latin1' })).toThrow(TypeError);
    const res = Response.json({ a: 'é' }, { charset: 'UTF-8' });
    expect(await res.text()).toBe('{"a":"é"}');
    expect(res.body).toEqual(enc.encode('{"a":"é"}'));
    expect(Response.json(1, { charset: 'utf8' }).contentType).toBe('application/json');
  });

  it('refuses a status given where the init goes (Hono\'s c.json(data, 201)), rather than answer 200', () => {
    const loose = Response as unknown as { json(value: unknown, init: unknown): Response; new (body: unknown, init: unknown): Response };
    expect(() => loose.json({ id: 1 }, 201)).toThrow(new TypeError('Response.json(value, init): init is the number 201, not an object: write { status: 201 }'));
    expect(() => new loose('gone', 404)).toThrow(new TypeError('new Response(body, init): init is the number 404, not an object: write { status: 404 }'));
    expect(() => new loose('x', '201 Created')).toThrow(new TypeError('new Response(body, init): init is the string "201 Created", not an object: write { status: "201 Created" }'));
    expect(() => new loose('x', true)).toThrow(new TypeError('new Response(body, init): init is a boolean, not an object'));
    expect(new loose('x', null).statusCode).toBe(200);
    expect(Response.json({ id: 1 }, { status: 201 }).statusCode).toBe(201);
  });

  it('defaults to 200 OK, text/plain; charset=utf-8, empty body', async () => {
    const res = new Response();
    expect(res.statusCode).toBe(200);
    expect(res.status).toBe('200 OK');
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.contentType).toBe('text/plain');
    expect(res.charset).toBe('utf-8');
    expect((await res.bytes()).byteLength).toBe(0);
    expect(res.contentLength).toBe(0);
    expect(res.isStreamed()).toBe(false);
    expect(res.toString()).toBe('<Response 200 OK text/plain 0 bytes>');
  });

  it('takes status as a number or a line', () => {
    expect(new Response('', { status: 404 }).status).toBe('404 Not Found');
    expect(new Response('', { status: '418 Short And Stout' }).status).toBe('418 Short And Stout');
    expect(new Response('', { status: '503' }).status).toBe('503 Service Unavailable');
  });

  it('statusCode setter sets the standard reason', () => {
    const res = new Response();
    res.statusCode = 404;
    expect(res.status).toBe('404 Not Found');
    res.statusCode = 201;
    expect(res.status).toBe('201 Created');
  });

  it('status setter keeps a custom reason and accepts a number', () => {
    const res = new Response();
    res.status = '299 All Good Here';
    expect(res.statusCode).toBe(299);
    expect(res.status).toBe('299 All Good Here');
    res.status = 302;
    expect(res.status).toBe('302 Found');
    res.status = '404 ';
    expect(res.status).toBe('404 Not Found');
  });

  it('gives an unknown code the generic phrase of its class', () => {
    expect(reasonPhrase(299)).toBe('Success');
    expect(reasonPhrase(199)).toBe('Continue');
    expect(reasonPhrase(399)).toBe('Multiple Choices');
    expect(reasonPhrase(499)).toBe('Unknown Client Error');
    expect(reasonPhrase(599)).toBe('Unknown Server Error');
    expect(new Response('', { status: 499 }).status).toBe('499 Unknown Client Error');
    expect(reasonPhrase(404)).toBe('Not Found');
    expect(reasonPhrase(413)).toBe('Content Too Large');
    expect(reasonPhrase(422)).toBe('Unprocessable Content');
    expect(reasonPhrase(509)).toBe('Bandwidth Limit Exceeded');
  });

  it.each([
    ['NaN', Number.NaN],
    ['a fraction', 200.5],
    ['a code below 100', 99],
    ['a code above 599', 600],
    ['an empty line', ''],
    ['words', 'OK'],
    ['two digits', '20 OK'],
    ['four digits', '2000 OK'],
    ['a reason with CR/LF', '200 OK\r\nX-Evil: 1'],
    ['a reason with NUL', '200 O\0K'],
    ['a reason glued to the code', '200OK'],
  ])('refuses %s as a status', (_label, value) => {
    expect(() => new Response('', { status: value })).toThrow(TypeError);
    const res = new Response();
    expect(() => {
      res.status = value;
    }).toThrow(TypeError);
    if (typeof value === 'number') {
      expect(() => {
        res.statusCode = value;
      }).toThrow(TypeError);
    }
    expect(res.status).toBe('200 OK');
  });

  it.each([
    ['a BigInt', 404n, /invalid HTTP status: a value of type bigint/],
    ['a symbol', Symbol('404'), /invalid HTTP status: a value of type symbol/],
    ['an object', { code: 404 }, /invalid HTTP status: a value of type object/],
    ['null', null, /invalid HTTP status: a value of type null/],
    ['NaN', Number.NaN, /invalid HTTP status: NaN$/],
  ])('refuses %s as a status with a message that says what was given', (_label, value, message) => {
    expect(() => new Response('', { status: value as never })).toThrow(message);
    const res = new Response();
    expect(() => {
      res.statusCode = value as never;
    }).toThrow(message);
    expect(() => {
      res.status = value as never;
    }).toThrow(TypeError);
    expect(res.status).toBe('200 OK');
  });
});

describe('Response: headers', () => {
  it('are ordered, multi-valued and case-insensitive', async () => {
    const res = new Response('x', { headers: [['X-A', '1']] });
    res.headers.add('Vary', 'Accept');
    res.headers.add('vary', 'Cookie');
    expect(res.headers.getAll('VARY')).toEqual(['Accept', 'Cookie']);
    expect(res.headers.get('x-a')).toBe('1');
    expect(res.headers).toBeInstanceOf(HeaderList);
    expect(res.headers.list.map(([n]) => n)).toEqual(['X-A', 'Content-Type', 'Content-Length', 'Vary', 'vary']);
  });

  it('refuse CR/LF in names and values', async () => {
    const res = new Response();
    expect(() => res.headers.set('X-A', 'a\r\nSet-Cookie: x=1')).toThrow(TypeError);
    expect(() => res.headers.add('X-A\n', 'v')).toThrow(TypeError);
    expect(() => new Response('', { headers: { 'X-A': 'a\nb' } })).toThrow(TypeError);
    expect(res.headers.has('x-a')).toBe(false);
  });

  it('a Content-Type in init.headers is kept when contentType is not given', async () => {
    const res = new Response('{}', { headers: { 'Content-Type': 'application/json' } });
    expect(res.headers.getAll('content-type')).toEqual(['application/json']);
    expect(res.charset).toBeNull();
  });

  it('contentType: null sends no Content-Type', async () => {
    const res = new Response('x', { contentType: null });
    expect(res.headers.has('content-type')).toBe(false);
    expect(res.contentType).toBeNull();
    expect(res.charset).toBeNull();
    expect((await res.text())).toBe('x');
  });
});

describe('Response: contentType and charset', () => {
  it('charset on a malformed Content-Type, or a bad charset, throws a TypeError that says which', () => {
    const res = new Response('x', { headers: { 'Content-Type': 'garbage' } });
    expect(res.charset).toBeNull();
    expect(() => (res.charset = 'utf-8')).toThrow(/cannot set charset "utf-8": Content-Type "garbage" is not a media type/);
    expect(() => new Response('x', { headers: { 'Content-Type': 'text/' }, charset: 'utf-8' })).toThrow(/Content-Type "text\/" is not a media type/);
    expect(res.headers.get('content-type')).toBe('garbage');
    expect(() => (new Response('x').charset = 'a\r\nb')).toThrow(/cannot set charset "a\\r\\nb": not a parameter value/);
    res.contentType = 'text/html';
    res.charset = 'iso-8859-1';
    expect(res.headers.get('content-type')).toBe('text/html; charset=iso-8859-1');
  });

  it('text types get the default charset; JSON and binary types get none', async () => {
    expect(new Response('', { contentType: 'text/html' }).headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(new Response('', { contentType: 'application/xml' }).charset).toBe('utf-8');
    expect(new Response('', { contentType: 'image/svg+xml' }).charset).toBe('utf-8');
    expect(new Response('', { contentType: 'application/json' }).headers.get('content-type')).toBe('application/json');
    expect(new Response('', { contentType: 'image/png' }).charset).toBeNull();
  });

  it('init.charset applies, also with parameters in contentType', async () => {
    expect(new Response('', { contentType: 'text/html', charset: 'iso-8859-1' }).headers.get('content-type')).toBe(
      'text/html; charset=iso-8859-1',
    );
    expect(new Response('', { contentType: 'text/html; level=1', charset: 'utf-16le' }).headers.get('content-type')).toBe(
      'text/html; charset=utf-16le; level=1',
    );
    expect(new Response('', { contentType: 'text/plain; charset=ascii' }).charset).toBe('ascii');
    const fromHeaders = new Response('', { headers: { 'Content-Type': 'text/csv' }, charset: 'latin1' });
    expect(fromHeaders.headers.get('content-type')).toBe('text/csv; charset=latin1');
  });

  it('refuses a content type with a bad parameter instead of dropping it', () => {
    for (const bad of ['text/html; charset=x\nX:1', 'text/html; charset', 'text/html; ;x=1', 'text/html; charset=a; Charset=b']) {
      expect(() => new Response('ok', { contentType: bad }), JSON.stringify(bad)).toThrow(TypeError);
      const res = new Response('ok');
      expect(() => {
        res.contentType = bad;
      }, JSON.stringify(bad)).toThrow(TypeError);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
  });

  it('setting contentType keeps the charset for text types', async () => {
    const res = new Response('', { charset: 'iso-8859-1' });
    res.contentType = 'text/html';
    expect(res.headers.get('content-type')).toBe('text/html; charset=iso-8859-1');
    res.contentType = 'text/csv; charset=utf-16le';
    expect(res.charset).toBe('utf-16le');
    res.contentType = 'application/json';
    expect(res.headers.get('content-type')).toBe('application/json');
    res.contentType = 'text/plain';
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    res.contentType = null;
    expect(res.headers.has('content-type')).toBe(false);
    expect(() => {
      res.contentType = 'not a media type';
    }).toThrow(TypeError);
  });

  it('setting charset keeps the type and other parameters', async () => {
    const res = new Response('', { contentType: 'text/html; level=1' });
    res.charset = 'ISO-8859-1';
    expect(res.contentType).toBe('text/html');
    expect(res.charset).toBe('iso-8859-1');
    expect(res.headers.get('content-type')).toBe('text/html; charset=ISO-8859-1; level=1');
    res.charset = null;
    expect(res.headers.get('content-type')).toBe('text/html; level=1');
    const bare = new Response('', { contentType: null });
    bare.charset = null;
    expect(bare.headers.has('content-type')).toBe(false);
    bare.charset = 'utf-8';
    expect(bare.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('getters never throw on a malformed Content-Type', async () => {
    const res = new Response('x', { headers: { 'Content-Type': 'text/plain; charset' } });
    expect(res.contentType).toBe('text/plain');
    expect(res.charset).toBeNull();
    expect((await res.text())).toBe('x');
    res.headers.set('Content-Type', 'text/plain; junk; charset=latin1');
    expect(res.charset).toBe('latin1');
  });
});

describe('Response: body', () => {
  it('a string is encoded with the charset and sets Content-Length in bytes', async () => {
    const res = new Response('héllo €');
    expect((await res.bytes())).toEqual(enc.encode('héllo €'));
    expect(res.contentLength).toBe(10);
    const latin = new Response('café', { charset: 'iso-8859-1' });
    expect([...(await latin.bytes())]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    expect((await latin.text())).toBe('café');
    expect(latin.contentLength).toBe(4);
  });

  it('refuses text the charset cannot encode, instead of corrupting it', async () => {
    expect(() => new Response('€', { charset: 'iso-8859-1' })).toThrow(RangeError);
    expect(() => new Response('é', { charset: 'us-ascii' })).toThrow(RangeError);
    expect(() => new Response('x', { charset: 'klingon' })).toThrow(RangeError);
    const res = new Response('', { charset: 'latin1' });
    expect(() => {
      res.body = '€';
    }).toThrow(RangeError);
  });

  it('sends text in a charset it cannot encode (Shift_JIS) as bytes encoded elsewhere, the charset declared (docs/response.md)', async () => {
    const sjis = new Uint8Array([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea]); // 日本語, as iconv.encode('日本語', 'shift_jis') gives it
    const res = new Response(sjis, { contentType: 'text/html', charset: 'shift_jis' });
    expect(res.headers.get('content-type')).toBe('text/html; charset=shift_jis');
    expect(res.contentLength).toBe(6);
    expect(await res.text()).toBe('日本語');
  });

  it('takes bytes, an ArrayBuffer, another typed array, null and undefined', async () => {
    expect([...(await new Response(new Uint8Array([1, 2])).bytes())]).toEqual([1, 2]);
    expect([...(await new Response(new Uint8Array([1, 2, 3]).buffer).bytes())]).toEqual([1, 2, 3]);
    const view = new Uint16Array([0x0201]);
    const fromView = new Response(view);
    expect((await fromView.bytes()).byteLength).toBe(2);
    expect(fromView.isStreamed()).toBe(false);
    const sub = new Response(new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
    expect([...(await sub.bytes())]).toEqual([8, 7]);
    expect(new Response(null).contentLength).toBe(0);
    expect((await new Response(undefined).bytes()).byteLength).toBe(0);
    expect(() => new Response(42 as unknown as string)).toThrow(TypeError);
  });

  it('body set as text or bytes; bytes() and text() read it', async () => {
    const res = new Response('a');
    res.body = 'héllo';
    expect(res.contentLength).toBe(6);
    expect(res.body).toEqual(enc.encode('héllo'));
    res.body = new Uint8Array([0x68, 0x69]);
    expect((await res.text())).toBe('hi');
    expect(res.contentLength).toBe(2);
    res.body = 'x';
    expect((await res.bytes())).toEqual(enc.encode('x'));
    res.body = null;
    expect(res.contentLength).toBe(0);
  });

  it('json() reads; Response.json() builds', async () => {
    const res = Response.json({ a: [1, 'é'] });
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ a: [1, 'é'] });
    expect(res.contentLength).toBe((await res.bytes()).byteLength);
    const problem = Response.json({ title: 'x' }, { contentType: 'application/problem+json' });
    expect(problem.contentType).toBe('application/problem+json');
    expect(await problem.json<{ title: string }>()).toEqual({ title: 'x' });
    await expect(new Response('not json').json()).rejects.toThrow(SyntaxError);
    const made = Response.json({ ok: true }, { status: 201 });
    expect(made.status).toBe('201 Created');
    expect(made.headers.get('content-type')).toBe('application/json');
    expect((await made.text())).toBe('{"ok":true}');
    expect(Response.json([1], { contentType: undefined }).contentType).toBe('application/json');
    expect(Response.json([1], { contentType: 'application/vnd.x+json' }).contentType).toBe('application/vnd.x+json');
  });

  it('Response.json(value) answers the fields of Response.json(value, {}); a subclass goes through its own body setter', async () => {
    for (const value of [{ a: [1, 'é'] }, 'x', null, []]) {
      const quick = Response.json(value);
      expect([...quick.headers]).toEqual([...Response.json(value, {}).headers]);
      expect(await quick.text()).toBe(JSON.stringify(value));
      quick.body = 'longer';
      expect(quick.headers.get('content-length')).toBe('6');
    }
    const set: unknown[] = [];
    class Recorded extends Response {
      override get body(): Uint8Array | Body {
        return super.body;
      }
      override set body(value: ResponseBody) {
        set.push(value);
        super.body = value;
      }
    }
    const res = Recorded.json({ ok: true });
    expect(res).toBeInstanceOf(Recorded);
    expect(set).toEqual(['{"ok":true}']);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('Response.json() keeps a Content-Type given in init.headers, as fetch does', async () => {
    const problem = Response.json({ title: 'Gone' }, { status: 410, headers: { 'Content-Type': 'application/problem+json', 'X-A': '1' } });
    expect(problem.headers.getAll('content-type')).toEqual(['application/problem+json']);
    expect(problem.headers.get('x-a')).toBe('1');
    expect(await problem.json()).toEqual({ title: 'Gone' });
    expect(Response.json(1, { headers: [['content-type', 'application/vnd.api+json']] }).contentType).toBe('application/vnd.api+json');
    expect(Response.json(1, { headers: { 'X-A': '1' } }).headers.get('content-type')).toBe('application/json');
    // init.contentType still wins, as in the constructor.
    expect(Response.json(1, { headers: { 'Content-Type': 'text/plain' }, contentType: 'application/json' }).headers.getAll('content-type')).toEqual(['application/json']);
    // The same as fetch's Response.json:
    expect(globalThis.Response.json(1, { headers: { 'Content-Type': 'application/problem+json' } }).headers.get('content-type')).toBe('application/problem+json');
  });

  it('a streamed body: no Content-Length until bytes() buffers it', async () => {
    async function* gen() {
      yield enc.encode('ab');
      yield enc.encode('cd');
    }
    const res = new Response(gen());
    expect(res.isStreamed()).toBe(true);
    expect(res.contentLength).toBeNull();
    expect(res.headers.has('content-length')).toBe(false);
    expect(res.toString()).toBe('<Response 200 OK text/plain streamed>');
    const bytes = await res.bytes();
    expect(dec.decode(bytes)).toBe('abcd');
    expect(res.isStreamed()).toBe(false);
    expect(res.contentLength).toBe(4);
    expect((await res.text())).toBe('abcd');
    expect(await res.bytes()).toBe(bytes);
  });

  it('a sync iterable body streams too, and setting bytes ends streaming', async () => {
    const res = new Response([enc.encode('x'), enc.encode('y')]);
    expect(res.isStreamed()).toBe(true);
    expect(dec.decode(await res.bytes())).toBe('xy');
    const again = new Response([enc.encode('x')]);
    again.body = 'done';
    expect(again.isStreamed()).toBe(false);
    expect((await again.text())).toBe('done');
  });

  it('readBody refuses chunks that are not bytes, nor text (read as UTF-8)', async () => {
    const res = new Response([42 as unknown as Uint8Array]);
    await expect(res.bytes()).rejects.toThrow(TypeError);
    expect(await new Response(['text']).text()).toBe('text');
  });

  it('contentLength get and set', () => {
    const res = new Response('abc');
    expect(res.contentLength).toBe(3);
    res.contentLength = 10;
    expect(res.headers.get('content-length')).toBe('10');
    res.contentLength = null;
    expect(res.headers.has('content-length')).toBe(false);
    expect(res.contentLength).toBeNull();
    res.headers.set('Content-Length', 'abc');
    expect(res.contentLength).toBeNull();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => {
        res.contentLength = bad;
      }).toThrow(TypeError);
    }
  });
});

describe('Response: a stream that can be read once', () => {
  const chunks = () =>
    (function* () {
      yield new TextEncoder().encode('ab');
      yield new TextEncoder().encode('cd');
    })();

  it('bytes() read by two calls at once: the second rejects instead of getting half', async () => {
    const res = new Response(chunks());
    const [first, second] = await Promise.allSettled([res.text(), res.text()]);
    expect(first).toEqual({ status: 'fulfilled', value: 'abcd' });
    expect(second.status).toBe('rejected');
    expect(await res.text()).toBe('abcd'); // now in memory
  });

  it('respond() after toFetch(), and toFetch() after respond(), throw', async () => {
    const a = new Response(chunks());
    expect(await a.toFetch().text()).toBe('abcd');
    expect(() => a.respond(Request.blank('/').environ, () => {})).toThrow(/can be read once/);
    const b = new Response(chunks());
    b.respond(Request.blank('/').environ, () => {});
    expect(() => b.toFetch()).toThrow(TypeError);
    await expect(b.bytes()).rejects.toThrow(TypeError);
  });

  it('a new body is a new stream; arrays and bytes serve again', async () => {
    const res = new Response(chunks());
    await Request.blank('/').getResponse(res.toApp());
    res.body = chunks();
    expect((await Request.blank('/').getResponse(res.toApp())).status).toBe('200 OK');
    res.body = [new TextEncoder().encode('x')];
    for (let i = 0; i < 2; i++) expect(await (await Request.blank('/').getResponse(res.toApp())).text()).toBe('x');
  });
});

describe('Response: cookies', () => {
  it('setCookie with no options: encoded value, Path=/', () => {
    const res = new Response();
    res.setCookie('name', 'a b;c');
    expect(res.headers.get('set-cookie')).toBe('name=a%20b%3Bc; Path=/');
    expect(Request.blank('/', { headers: { Cookie: 'name=a%20b%3Bc' } }).cookies.name).toBe('a b;c');
  });

  it('setCookie with every attribute', () => {
    const before = Date.now();
    const res = new Response().setCookie('sid', 'xyz', {
      maxAge: 3600,
      path: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: true,
      sameSite: 'Strict',
      partitioned: true,
      priority: 'high',
    });
    const line = res.headers.get('set-cookie')!;
    expect(line.startsWith('sid=xyz; ')).toBe(true);
    const attrs = parseSetCookie(line);
    expect(attrs['Max-Age']).toBe('3600');
    expect(attrs.Path).toBe('/app');
    expect(attrs.Domain).toBe('example.com');
    expect(attrs.Secure).toBe(true);
    expect(attrs.HttpOnly).toBe(true);
    expect(attrs.SameSite).toBe('Strict');
    expect(attrs.Partitioned).toBe(true);
    expect(attrs.Priority).toBe('High');
    const expires = Date.parse(attrs.Expires as string);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
  });

  it('maxAge also sets Expires; an explicit expires wins; path: null leaves Path out', () => {
    const expires = new Date('2030-01-02T03:04:05Z');
    const line = new Response().setCookie('a', '1', { maxAge: 60, expires, path: null }).headers.get('set-cookie')!;
    const attrs = parseSetCookie(line);
    expect(attrs['Max-Age']).toBe('60');
    expect(attrs.Expires).toBe('Wed, 02 Jan 2030 03:04:05 GMT');
    expect(attrs.Path).toBeUndefined();
    expect(parseSetCookie(new Response().setCookie('b', '2', { expires }).headers.get('set-cookie')!)['Max-Age']).toBeUndefined();
  });

  it('sameSite in any case, and a custom encoder', () => {
    for (const [given, sent] of [
      ['lax', 'Lax'],
      ['None', 'None'],
      ['strict', 'Strict'],
    ] as const) {
      const line = new Response().setCookie('a', '1', { sameSite: given, secure: true }).headers.get('set-cookie')!;
      expect(parseSetCookie(line).SameSite).toBe(sent);
    }
    const raw = new Response().setCookie('a', 'x:y', { encode: (v) => v }).headers.get('set-cookie');
    expect(raw).toBe('a=x:y; Path=/');
  });

  it('several cookies give several Set-Cookie lines, sent as such', async () => {
    const res = new Response('ok').setCookie('a', '1').setCookie('b', '2').setCookie('a', '3', { path: '/x' });
    expect(res.headers.getAll('Set-Cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/', 'a=3; Path=/x']);
    const { calls } = await serve(res);
    expect(calls[0]![1].filter(([n]) => n.toLowerCase() === 'set-cookie')).toHaveLength(3);
  });

  it('deleteCookie sends an empty value with Max-Age=0 and an Expires in the past', () => {
    const res = new Response().deleteCookie('sid', { path: '/app', domain: 'example.com' });
    const line = res.headers.get('set-cookie')!;
    expect(line.startsWith('sid=; ')).toBe(true);
    const attrs = parseSetCookie(line);
    expect(attrs['Max-Age']).toBe('0');
    expect(attrs.Expires).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(attrs.Path).toBe('/app');
    expect(attrs.Domain).toBe('example.com');
  });

  it('refuses invalid names, attributes and a non-finite maxAge', () => {
    const res = new Response();
    expect(() => res.setCookie('bad name', 'v')).toThrow(TypeError);
    expect(() => res.setCookie('a;b', 'v')).toThrow(TypeError);
    expect(() => res.setCookie('a', 'v', { domain: 'evil.com; Secure' })).toThrow(TypeError);
    expect(() => res.setCookie('a', 'v', { path: '/x;Domain=evil' })).toThrow(TypeError);
    expect(() => res.setCookie('a', 'v', { maxAge: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => res.setCookie('a', 'v', { encode: () => 'a\r\nb' })).toThrow(TypeError);
    expect(res.headers.has('set-cookie')).toBe(false);
  });

  it.each([
    ['SameSite=None without Secure', 'a', { sameSite: 'none' }, /SameSite=None needs secure/],
    ['SameSite=None (any case) without Secure', 'a', { sameSite: 'None', secure: false }, /SameSite=None needs secure/],
    ['Partitioned without Secure', 'a', { partitioned: true }, /Partitioned needs secure/],
    ['__Secure- without Secure', '__Secure-a', {}, /__Secure- needs secure/],
    ['__Host- without Secure', '__Host-a', {}, /__Host- needs secure/],
    ['__host- (any case) without Secure', '__host-a', {}, /__host- needs secure/],
    ['__Host- with a Domain', '__Host-a', { secure: true, domain: 'example.com' }, /__Host- allows no domain/],
    ['__Host- with another Path', '__Host-a', { secure: true, path: '/app' }, /__Host- needs path '\/'/],
    ['__Host- without a Path', '__Host-a', { secure: true, path: null }, /__Host- needs path '\/'/],
  ] as const)('refuses a cookie browsers would not store: %s', (_label, name, options, message) => {
    const res = new Response();
    expect(() => res.setCookie(name, 'v', options)).toThrow(message);
    expect(() => res.setCookie(name, 'v', options)).toThrow(TypeError);
    expect(res.headers.has('set-cookie')).toBe(false);
  });

  it('keeps the cookies those rules allow', () => {
    const res = new Response()
      .setCookie('a', '1', { sameSite: 'none', secure: true, partitioned: true })
      .setCookie('__Secure-b', '2', { secure: true, domain: 'example.com', path: '/app' })
      .setCookie('__Host-c', '3', { secure: true })
      .setCookie('__Hostile', '4')
      .setCookie('_Secure-d', '5');
    expect(res.headers.getAll('set-cookie')).toEqual([
      'a=1; Path=/; Secure; Partitioned; SameSite=None',
      '__Secure-b=2; Domain=example.com; Path=/app; Secure',
      '__Host-c=3; Path=/; Secure',
      '__Hostile=4; Path=/',
      '_Secure-d=5; Path=/',
    ]);
  });

  it('deleteCookie of a prefixed, SameSite=None or partitioned cookie is Secure, so a browser applies it', async () => {
    const res = new Response()
      .deleteCookie('__Host-sid')
      .deleteCookie('__Secure-pref', { path: '/app' })
      .deleteCookie('embed', { sameSite: 'none' })
      .deleteCookie('chip', { partitioned: true })
      .deleteCookie('plain');
    const lines = res.headers.getAll('set-cookie').map(parseSetCookie);
    expect(lines.map((attrs) => attrs.Secure ?? false)).toEqual([true, true, true, true, false]);
    expect(() => new Response().deleteCookie('__Host-sid', { secure: false })).toThrow(/__Host- needs secure/);

    // A browser-like jar keeps a __Host- cookie whose deletion line lacks Secure.
    const app = Request.application((req) =>
      req.pathInfo === '/login'
        ? new Response('in').setCookie('__Host-sid', 'abc', { secure: true, httpOnly: true })
        : new Response('out').deleteCookie('__Host-sid'),
    );
    const client = new TestClient(app, { baseUrl: 'https://example.com/' });
    await client.get('/login');
    expect(client.cookies.get('__Host-sid')).toBe('abc');
    await client.get('/logout');
    expect(client.cookies.get('__Host-sid')).toBeUndefined();
  });
});

describe('Response as an app', () => {
  it('respond() starts the response and returns the body', async () => {
    const res = new Response('hello', { status: 201, headers: { 'X-A': '1' } });
    const { calls, text } = await serve(res);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('201 Created');
    expect(calls[0]![1]).toEqual([
      ['X-A', '1'],
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', '5'],
    ]);
    expect(text).toBe('hello');
  });

  it('an empty body is an empty iterable', async () => {
    const { chunks } = await serve(new Response(''));
    expect(chunks).toHaveLength(0);
  });

  it('HEAD gets the headers (Content-Length kept) and no body', async () => {
    const { calls, chunks } = await serve(new Response('hello'), 'HEAD');
    expect(calls[0]![1]).toContainEqual(['Content-Length', '5']);
    expect(chunks).toHaveLength(0);
  });

  it('HEAD closes a streamed body unread', async () => {
    let started = false;
    let closed = false;
    async function* gen() {
      started = true;
      try {
        yield enc.encode('x');
      } finally {
        closed = true;
      }
    }
    const iterator = gen();
    const { chunks } = await serve(new Response(iterator), 'HEAD');
    expect(chunks).toHaveLength(0);
    expect(started).toBe(false);
    expect((await iterator.next()).done).toBe(true);
    expect(closed).toBe(false);
  });

  it('streams a streamed body', async () => {
    async function* gen() {
      yield enc.encode('a');
      yield enc.encode('b');
    }
    const { chunks, text } = await serve(new Response(gen()));
    expect(chunks).toHaveLength(2);
    expect(text).toBe('ab');
  });

  it('toApp() and getResponse() run it as an app', async () => {
    const res = new Response('via app', { status: 202 });
    const copy = await Request.blank('/').getResponse(res.toApp());
    expect(copy.status).toBe('202 Accepted');
    expect((await copy.text())).toBe('via app');
    expect(copy.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });
});

describe('Response: one body API', () => {
  it('isStreamed() narrows body to the stream', async () => {
    const res = new Response([enc.encode('a')]);
    if (res.isStreamed()) {
      expectTypeOf(res.body).toEqualTypeOf<Body>();
      const chunks: Uint8Array[] = [];
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) chunks.push(chunk);
      expect(chunks).toHaveLength(1);
    } else {
      expect.unreachable('an iterable body is streamed');
    }
    expectTypeOf(new Response('x').body).toEqualTypeOf<Uint8Array | Body>();
  });

  it('bytes(), text() and json() read a stream once and keep it for the next read', async () => {
    let opened = 0;
    const res = new Response(
      (async function* () {
        opened++;
        yield enc.encode('{"a":');
        yield enc.encode('[1,"é"]}');
      })(),
      { contentType: 'application/json' },
    );
    expect(await res.json()).toEqual({ a: [1, 'é'] });
    expect(await res.text()).toBe('{"a":[1,"é"]}');
    expect((await res.bytes()).byteLength).toBe(14);
    expect(res.contentLength).toBe(14);
    expect(opened).toBe(1);
  });

  it('a stream that fails rejects the read', async () => {
    const res = new Response(
      (async function* () {
        yield enc.encode('a');
        throw new Error('upstream died');
      })(),
    );
    await expect(res.text()).rejects.toThrow('upstream died');
  });
});

describe('Response: statuses without content', () => {
  it('keeps the rules of a status without content under conditionalResponse too (no body, no Content-Type)', async () => {
    for (const make of [() => new Response('hello', { status: 204, conditionalResponse: true }), () => Response.json({ a: 1 }, { status: 204, conditionalResponse: true })]) {
      const out = await serve(make());
      expect(out.calls[0]![0]).toBe('204 No Content');
      expect(out.calls[0]![1]).toEqual([]);
      expect(out.text).toBe('');
    }
    const late = new Response('hello', { conditionalResponse: true });
    late.statusCode = 304;
    const out = await serve(late);
    expect(out.calls[0]![1].map(([name]) => name.toLowerCase())).not.toContain('content-type');
    expect(out.text).toBe('');
  });

  it('a 205 passes lint whatever its body: served with Content-Length 0 and nothing else of it', async () => {
    for (const make of [() => new Response('reset', { status: 205 }), () => new Response('reset', { status: 205, conditionalResponse: true })]) {
      const res = await Request.blank('/').getResponse(lint(make().toApp()));
      expect(res.status).toBe('205 Reset Content');
      expect(res.headers.get('content-length')).toBe('0');
      expect(res.headers.has('content-type')).toBe(false);
      expect(await res.text()).toBe('');
    }
  });

  it('toFetch() drops Content-Length and Content-Type with the body of a 204 or 205', () => {
    for (const status of [204, 205]) {
      const res = new Response('abc', { contentType: 'text/plain' });
      res.statusCode = status;
      const fetched = res.toFetch();
      expect(fetched.body, String(status)).toBeNull();
      expect(fetched.headers.get('content-length'), String(status)).toBeNull();
      expect(fetched.headers.get('content-type'), String(status)).toBeNull();
    }
  });

  it('204 and 304 are built without Content-Type or Content-Length', () => {
    for (const status of [204, 304, '204 No Content']) {
      const res = new Response(null, { status });
      expect(res.headers.has('content-type'), String(status)).toBe(false);
      expect(res.headers.has('content-length'), String(status)).toBe(false);
    }
    expect(new Response(null, { status: 304, headers: { 'Content-Length': '1234' } }).contentLength).toBe(1234);
  });

  it('a response turned into a 204 or 304 after it was built is sent without them; lint agrees', async () => {
    for (const code of [204, 304]) {
      const res = new Response('');
      res.statusCode = code;
      const out = await serve(res);
      const names = out.calls[0]![1].map(([name]) => name.toLowerCase());
      expect(names, String(code)).not.toContain('content-type');
      expect(names, String(code)).not.toContain('content-length');
      const linted = await Request.blank('/').getResponse(lint(res.toApp()));
      expect(linted.statusCode).toBe(code);
    }
  });

  it('a 304 keeps the Content-Length it was given; a 204 never sends one (RFC 9110 §8.6)', async () => {
    const notModified = new Response(null, { status: 304, headers: { 'Content-Length': '1234', ETag: '"v1"' } });
    expect((await serve(notModified)).calls[0]![1]).toEqual([
      ['Content-Length', '1234'],
      ['ETag', '"v1"'],
    ]);
    const noContent = new Response(null, { status: 204, headers: { 'Content-Length': '5' } });
    expect((await serve(noContent)).calls[0]![1]).toEqual([]);
  });

  it('reports the Content-Length it sends: none for a body under 1xx, 204 or 304, built so or set later', async () => {
    for (const status of [103, 204, 304]) {
      const built = new Response('abc', { status });
      expect(built.headers.get('content-length'), String(status)).toBeNull();
      expect(built.contentLength, String(status)).toBeNull();
      expect(await built.text()).toBe('abc'); // kept, not sent
      const late = new Response('abc');
      late.status = status;
      expect(late.contentLength, String(status)).toBeNull();
      late.statusCode = 200;
      expect(late.contentLength, String(status)).toBe(3);
    }
    const res = new Response('abc', { status: 204 });
    expect((await serve(res)).calls[0]![1]).toEqual([]);
    res.body = 'abcd';
    expect(res.contentLength).toBeNull();
    res.status = '200 OK';
    expect(res.headers.getAll('content-length')).toEqual(['4']);
  });

  it('a 304 keeps a given Content-Length whatever its body; a stream keeps its length under 304, not under 204', () => {
    const notModified = new Response('abc', { status: 304, headers: { 'Content-Length': '1234' } });
    expect(notModified.contentLength).toBe(1234);
    notModified.body = 'xy';
    expect(notModified.contentLength).toBe(1234);
    const streamed = new Response([enc.encode('0123456789')], { headers: { 'Content-Length': '10' } });
    streamed.statusCode = 304;
    expect(streamed.contentLength).toBe(10);
    streamed.statusCode = 204;
    expect(streamed.contentLength).toBeNull();
    expect(new Response([enc.encode('x')], { status: 204, headers: { 'Content-Length': '1' } }).contentLength).toBeNull();
  });

  it('drops Content-Type when set to a status without content, and does not restore it', () => {
    for (const status of [103, 204, 205, 304]) {
      const res = new Response('abc', { contentType: 'text/html' });
      res.status = status;
      expect(res.headers.has('content-type'), String(status)).toBe(false);
      expect(res.contentType, String(status)).toBeNull();
      res.status = 200;
      expect(res.contentType, String(status)).toBeNull();
      expect(res.contentLength, String(status)).toBe(3);
    }
  });

  it('a 205 reports the Content-Length: 0 it sends and no Content-Type, built so or set later (RFC 9110 §15.3.6)', async () => {
    const built = new Response('abc', { status: 205, headers: { 'Content-Length': '3' } });
    expect(built.contentLength).toBe(0);
    expect(built.contentType).toBeNull();
    expect(await built.text()).toBe('abc'); // kept, not sent
    built.body = 'abcd';
    expect(built.contentLength).toBe(0);
    built.statusCode = 200;
    expect(built.contentLength).toBe(4);
    const late = new Response('abc');
    late.statusCode = 205;
    expect(late.headers.getAll('content-length')).toEqual(['0']);
    late.statusCode = 304;
    expect(late.contentLength).toBeNull();
    const streamed = new Response([enc.encode('0123456789')], { headers: { 'Content-Length': '10' } });
    streamed.statusCode = 205;
    expect(streamed.contentLength).toBe(0);
    streamed.statusCode = 200;
    expect(streamed.contentLength).toBeNull();
    expect(new Response([enc.encode('x')], { status: 205, headers: { 'Content-Length': '1' } }).contentLength).toBe(0);
    expect((await serve(new Response('abc', { status: 205 }))).calls[0]![1]).toEqual([['Content-Length', '0']]);
  });

  it('closes a streamed body it does not send', async () => {
    let closed = false;
    const body: Iterable<Uint8Array> = {
      [Symbol.iterator]: () => ({
        next: () => ({ done: false, value: enc.encode('x') }),
        return: () => {
          closed = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const res = new Response(body, { status: 204 });
    const out = await serve(res);
    expect(out.text).toBe('');
    expect(closed).toBe(true);
  });
});

describe('Response: fetch conversions', () => {
  it('toFetch() keeps status, reason, every Set-Cookie and the body', async () => {
    const res = new Response('hello', { status: '201 Made', contentType: 'text/html' });
    res.setCookie('a', '1');
    res.setCookie('b', '2');
    const fetched = res.toFetch();
    expect(fetched).toBeInstanceOf(globalThis.Response);
    expect([fetched.status, fetched.statusText]).toEqual([201, 'Made']);
    expect(fetched.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(fetched.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await fetched.text()).toBe('hello');
  });

  it('toFetch() streams chunk by chunk, and a cancel closes the body', async () => {
    let produced = 0;
    let closed = false;
    const res = new Response(
      (async function* () {
        try {
          for (;;) {
            produced++;
            yield enc.encode(`${produced}\n`);
          }
        } finally {
          closed = true;
        }
      })(),
    );
    const reader = res.toFetch().body!.getReader();
    expect(dec.decode((await reader.read()).value)).toBe('1\n');
    expect(dec.decode((await reader.read()).value)).toBe('2\n');
    expect(produced).toBeLessThanOrEqual(3);
    await reader.cancel();
    expect(closed).toBe(true);
  });

  it('toFetch() gives a 204 or 304 a null body', () => {
    expect(new Response(null, { status: 204 }).toFetch().body).toBeNull();
    expect(new Response([enc.encode('x')], { status: 304 }).toFetch().body).toBeNull();
  });

  it('fromFetch() streams the fetch body and keeps every field', async () => {
    const headers = new globalThis.Headers([['Content-Type', 'application/json']]);
    headers.append('Set-Cookie', 'a=1');
    headers.append('Set-Cookie', 'b=2');
    const source = new globalThis.Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(enc.encode('{"ok":'));
          controller.enqueue(enc.encode('true}'));
          controller.close();
        },
      }),
      { status: 202, statusText: 'Queued', headers },
    );
    const res = Response.fromFetch(source);
    expect(res.status).toBe('202 Queued');
    expect(res.isStreamed()).toBe(true);
    expect(res.headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(res.contentType).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
  });

  it('fromFetch() builds the subclass it is called on, and refuses a used body', async () => {
    class Page extends Response {}
    const page = Page.fromFetch(new globalThis.Response('x'));
    expect(page).toBeInstanceOf(Page);
    expectTypeOf(page).toEqualTypeOf<Page>();
    const used = new globalThis.Response('y');
    await used.text();
    expect(() => Response.fromFetch(used)).toThrow(TypeError);
  });

  it('round-trips through fetch and back', async () => {
    const back = Response.fromFetch(Response.json({ n: 1 }, { status: 201 }).toFetch());
    expect(back.statusCode).toBe(201);
    expect(await back.json()).toEqual({ n: 1 });
  });
});
