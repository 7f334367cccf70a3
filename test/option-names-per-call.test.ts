/**
 * Options given per call (the body readers, `Request.blank`, the test client's requests) and
 * options nested in options (`proxy`'s and `serve`'s `tls`, `serve`'s `server`) are checked as
 * a middleware's are at construction: an unknown key is a `TypeError` naming it (with its path
 * when nested) and the option it likely meant, not a silent default.
 */
import { describe, expect, it } from 'vitest';
import { type AppLike, HTTPFound, HTTPMethodNotAllowed, HTTPNotFound, Request, Response, abort, redirect, serve } from 'tsgi';
import { AuthTickets, errors, secureHeaders } from 'tsgi/middleware';
import { proxy, rewriteHtml } from 'tsgi/proxy';
import { RouteMap } from 'tsgi/routing';
import { encodeMultipart, parseForm } from 'tsgi/forms';
import { TestClient } from 'tsgi/testing';

const quiet = { write() {} };

async function withServer(app: AppLike, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { host: '127.0.0.1', port: 0, log: quiet });
  try {
    await fn(server.url);
  } finally {
    await server.close();
  }
}

/** The readers and a misspelled option of each, with the name the message should suggest (`null`: none close). */
const readers: Array<[reader: string, call: (req: Request, options: never) => unknown, misspelled: object, meant: string | null]> = [
  ['json', (req, o) => req.json(o), { maxsize: 1 }, null],
  ['text', (req, o) => req.text(o), { maxBodysize: 1 }, 'maxBodySize'],
  ['bytes', (req, o) => req.bytes(o), { max_body_size: 1 }, 'maxBodySize'],
  ['stream', (req, o) => req.stream(o), { maxBodySise: 1 }, 'maxBodySize'],
  ['form', (req, o) => req.form(o), { maxFieldsize: 1 }, 'maxFieldSize'],
  ['files', (req, o) => req.files(o), { maxFilesSize: 1 }, 'maxFileSize'],
  ['params', (req, o) => req.params(o), { spoolTreshold: 1 }, 'spoolThreshold'],
  ['parseForm', (req, o) => req.parseForm(o), { tmpdir: '/tmp' }, 'tmpDir'],
  ['parts', (req, o) => req.parts(o), { maxpart: 1 }, 'maxParts'],
];

describe('the body readers check their options per call', () => {
  it('answers 500 for req.json({ maxsize }) over a socket, the error naming the option; the right name keeps working', async () => {
    const failures: unknown[] = [];
    const app = errors(
      Request.application(async (req) => {
        const size = req.query.get('size');
        const value = await req.json(size === 'wrong' ? ({ maxsize: 1 } as never) : { maxBodySize: 1000 });
        return Response.json({ got: value });
      }),
      { log: quiet, onError: (error) => void failures.push(error) },
    );
    await withServer(app, async (url) => {
      const wrong = await fetch(`${url}?size=wrong`, { method: 'POST', body: '{"a":1}', headers: { 'Content-Type': 'application/json' } });
      expect(wrong.status).toBe(500);
      await wrong.body?.cancel();
      expect(failures).toHaveLength(1);
      expect(failures[0]).toBeInstanceOf(TypeError);
      expect((failures[0] as Error).message).toBe('req.json: unknown option "maxsize" (options: maxBodySize, maxDepth)');
      const right = await fetch(`${url}?size=right`, { method: 'POST', body: '{"a":1}', headers: { 'Content-Type': 'application/json' } });
      expect(right.status).toBe(200);
      expect(await right.json()).toEqual({ got: { a: 1 } });
    });
  });

  it.each(readers)('req.%s refuses a misspelled option, naming it and the one meant', async (reader, call, misspelled, meant) => {
    const req = Request.blank('/', { method: 'POST', form: { a: '1' } });
    let error: unknown;
    try {
      await call(req, misspelled as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    const key = Object.keys(misspelled)[0]!;
    expect((error as Error).message).toMatch(new RegExp(`^req\\.${reader}: unknown option ${JSON.stringify(key)}`));
    if (meant !== null) expect((error as Error).message).toContain(`did you mean ${JSON.stringify(meant)}?`);
  });

  it('rejects the promise of a promise reader, and throws from stream() and parts(), which answer no promise', async () => {
    const req = Request.blank('/', { method: 'POST', body: 'x' });
    let promise: Promise<unknown> | undefined;
    expect(() => void (promise = req.json({ maxsize: 1 } as never))).not.toThrow();
    const rejected = expect(promise).rejects.toThrow(/^req\.json: unknown option "maxsize"/);
    expect(() => req.stream({ maxsize: 1 } as never)).toThrow(/^req\.stream: unknown option "maxsize"/);
    expect(() => req.parts({ maxsize: 1 } as never)).toThrow(/^req\.parts: unknown option "maxsize"/);
    await rejected;
    await expect(req.text('1mb' as never)).rejects.toThrow(/^req\.text: the first argument is the options object \(\{ maxBodySize \}\), not a string$/);
  });

  it('takes no options, known options, and known options holding undefined', async () => {
    const req = Request.blank('/', { method: 'POST', json: { a: 1 } });
    expect(await req.json()).toEqual({ a: 1 });
    expect(await req.json({ maxBodySize: undefined })).toEqual({ a: 1 });
    expect(await req.text({ maxBodySize: 100 })).toBe('{"a":1}');
    const form = Request.blank('/', { method: 'POST', form: { a: '1' } });
    expect((await form.form({ maxFields: 10, spoolThreshold: undefined, tmpDir: undefined })).get('a')).toBe('1');
  });
});

describe('Request.blank and the test client check their options per call', () => {
  it('Request.blank refuses a misspelled option', () => {
    expect(() => Request.blank('/', { metod: 'POST' } as never)).toThrow(/^Request\.blank: unknown option "metod": did you mean "method"\?/);
    expect(() => Request.blank('/', { method: 'POST', jsn: {} } as never)).toThrow(/^Request\.blank: unknown option "jsn": did you mean "json"\?/);
    expect(Request.blank('/', { method: 'PUT', baseUrl: undefined }).method).toBe('PUT');
  });

  it('client.post(url, { jsonn }) rejects rather than send no body; each method names itself', async () => {
    const seen: string[] = [];
    const client = new TestClient(
      Request.application(async (req) => {
        seen.push(req.method);
        return `${req.method} ${await req.text()}`;
      }),
    );
    await expect(client.post('/', { jsonn: { a: 1 } } as never)).rejects.toThrow(/^client\.post: unknown option "jsonn": did you mean "json"\?/);
    await expect(client.get('/', { header: { A: 'b' } } as never)).rejects.toThrow(/^client\.get: unknown option "header": did you mean "headers"\?/);
    await expect(client.request('PATCH', '/', { stauts: 200 } as never)).rejects.toThrow(/^client\.request: unknown option "stauts": did you mean "status"\?/);
    await expect(client.put('/', 'body' as never)).rejects.toThrow(/^client\.put: the second argument is the options object .*, not a string$/);
    expect(seen).toEqual([]);
    expect(await (await client.post('/', { json: { a: 1 } })).text()).toBe('POST {"a":1}');
  });

  it('res.follow(options) checks its options too', async () => {
    const client = new TestClient(
      Request.application((req) => (req.path === '/from' ? redirect('/to', 302) : 'arrived')),
    );
    const res = await client.get('/from');
    await expect(res.follow({ allowerrors: true } as never)).rejects.toThrow(/^res\.follow: unknown option "allowerrors": did you mean "allowErrors"\?/);
    expect(await (await res.follow()).text()).toBe('arrived');
  });
});

describe("the test client's page helpers check their options per call", () => {
  const page = `<a href="/next">Next</a><form method="post" action="/sent"><input name="q" value="a"><button>Go</button></form>`;
  const client = new TestClient(
    Request.application(async (req) => (req.path === '/' ? new Response(page, { contentType: 'text/html' }) : `${req.path} ${(await req.form()).get('q') ?? ''}`)),
  );

  it('res.click, form.set and form.submit refuse a misspelled option', async () => {
    const res = await client.get('/');
    expect(() => res.click('Next', { hrf: '/next' } as never)).toThrow(/^res\.click: unknown option "hrf": did you mean "href"\?/);
    expect(await (await res.click('Next', { href: '/next', status: 200 })).text()).toBe('/next ');
    const form = res.form();
    expect(() => form.set('q', 'b', { forse: true } as never)).toThrow(/^form\.set: unknown option "forse": did you mean "force"\?/);
    await expect(form.submit({ stauts: 200 } as never)).rejects.toThrow(/^form\.submit: unknown option "stauts": did you mean "status"\?/);
    await expect(form.submit('Go', { header: {} } as never)).rejects.toThrow(/^form\.submit: unknown option "header": did you mean "headers"\?/);
    expect(await (await form.set('q', 'b', { index: 0 }).submit({ status: 200 })).text()).toBe('/sent b');
  });
});

describe('options nested in options are checked, naming their path', () => {
  it("proxy's tls: a misspelled key is refused; the keys Node's tls.connect takes pass", () => {
    expect(() => proxy('https://127.0.0.1:9/', { tls: { rejectUnauthorised: true } as never })).toThrow(
      /^proxy: unknown option "tls\.rejectUnauthorised": did you mean "rejectUnauthorized"\?/,
    );
    expect(() => proxy('https://127.0.0.1:9/', { tls: { serverName: 'a.example' } as never })).toThrow(/^proxy: unknown option "tls\.serverName": did you mean "servername"\?/);
    expect(() => proxy('https://127.0.0.1:9/', { tls: { cipher: 'x' } as never })).toThrow(/did you mean "ciphers"\?/);
    expect(() => proxy('https://127.0.0.1:9/', { tls: 'pem' as never })).toThrow(/^proxy: the tls option is an options object \(\{ ca, cert, key, … \}\), not a string$/);
    // Node's other connect options (an object spread from another client's) pass, not read.
    expect(() => proxy('https://127.0.0.1:9/', { tls: { rejectUnauthorized: true, timeout: 5000, session: undefined, family: 4, minVersion: 'TLSv1.2' } as never })).not.toThrow();
  });

  it("proxy's tls: the checks it does not turn off are refused with the reason, not suggested and then ignored", async () => {
    const { checkServerIdentity } = await import('node:tls');
    // The misspelling's hint leads here: a rejectUnauthorized that is not read must not pass in silence (502s, the cause unsaid).
    expect(() => proxy('https://127.0.0.1:9/', { tls: { rejectUnauthorized: false } as never })).toThrow(
      /^proxy: tls\.rejectUnauthorized: false is not read: the upstream's certificate is always checked; for a private or self-signed one, give its certificate authority as tls\.ca$/,
    );
    // A function that pins a certificate, ignored, would have let any certificate of a trusted authority through.
    expect(() => proxy('https://127.0.0.1:9/', { tls: { checkServerIdentity: () => undefined } as never })).toThrow(
      /^proxy: tls\.checkServerIdentity is not read: the name on the certificate is always checked against tls\.servername \(default the upstream's host\); to pin, trust only its authority with tls\.ca$/,
    );
    // What other clients' options hold by default still passes: Node's own check, rejectUnauthorized: true.
    expect(() => proxy('https://127.0.0.1:9/', { tls: { rejectUnauthorized: true, checkServerIdentity } as never })).not.toThrow();
  });

  it("proxy's requestHeaders and responseHeaders objects: a misspelled remove would forward the Cookie it meant to drop", () => {
    expect(() => proxy('http://127.0.0.1:9/', { requestHeaders: { delete: ['Cookie'] } as never })).toThrow(
      /^proxy: unknown option "requestHeaders\.delete" \(options of requestHeaders: set, add, remove\)$/,
    );
    expect(() => proxy('http://127.0.0.1:9/', { responseHeaders: { sets: { 'X-A': 'b' } } as never })).toThrow(/^proxy: unknown option "responseHeaders\.sets": did you mean "set"\?/);
    expect(() => proxy('http://127.0.0.1:9/', { requestHeaders: { remove: ['Cookie'], set: undefined }, responseHeaders: (headers) => headers.delete('Server') })).not.toThrow();
  });

  it("serve's tls and server: a misspelling of a Node option is refused; another key Node may take passes", async () => {
    const hello = Request.application(() => 'hi');
    await expect(serve(hello, { port: 0, log: quiet, tls: { requestcert: true } as never })).rejects.toThrow(/^serve: unknown option "tls\.requestcert": did you mean "requestCert"\?$/);
    await expect(serve(hello, { port: 0, log: quiet, server: { maxHeadersize: 100 } as never })).rejects.toThrow(/^serve: unknown option "server\.maxHeadersize": did you mean "maxHeaderSize"\?$/);
    await expect(serve(hello, { port: 0, log: quiet, server: [] as never })).rejects.toThrow(/^serve: the server option is an options object .*, not an array$/);
    // A name far from every listed one may be an option of a newer Node: it goes to Node.
    const server = await serve(hello, { host: '127.0.0.1', port: 0, log: quiet, server: { keepAliveTimeout: 1000, aFutureNodeOption: 1 } as never });
    try {
      expect(await (await fetch(server.url)).text()).toBe('hi');
    } finally {
      await server.close();
    }
  });

  it("secureHeaders' contentSecurityPolicy names its path as the others do", () => {
    expect(() => secureHeaders(Request.application(() => 'x'), { contentSecurityPolicy: { directives: {}, reportonly: true } as never })).toThrow(
      /^secureHeaders: unknown option "contentSecurityPolicy\.reportonly": did you mean "reportOnly"\? \(options of contentSecurityPolicy: directives, reportOnly, nonce\)$/,
    );
  });
});

describe("the other methods taking options per call check them", () => {
  it("a response's cookies, attachment, ETag and event stream", () => {
    const res = new Response('body');
    // A misspelled httpOnly would set a cookie scripts can read.
    expect(() => res.setCookie('sid', 'x', { httponly: true } as never)).toThrow(/^res\.setCookie: unknown option "httponly": did you mean "httpOnly"\?/);
    expect(() => res.deleteCookie('sid', { paths: '/' } as never)).toThrow(/^res\.deleteCookie: unknown option "paths": did you mean "path"\?/);
    expect(() => res.deleteCookie('sid', { maxage: 0 } as never)).toThrow(/^res\.deleteCookie: unknown option "maxage": did you mean "maxAge"\?/);
    expect(() => res.attachment('a.txt', { typ: 'inline' } as never)).toThrow(/^res\.attachment: unknown option "typ": did you mean "type"\?/);
    expect(() => res.addEtag({ overwite: true } as never)).toThrow(/^res\.addEtag: unknown option "overwite": did you mean "overwrite"\?/);
    expect(() => Response.eventStream([], { heartbeats: 1000 } as never)).toThrow(/^Response\.eventStream: unknown option "heartbeats": did you mean "heartbeat"\?/);
    expect(res.setCookie('sid', 'x', { httpOnly: true, path: undefined }).deleteCookie('old', { path: '/' }).attachment('a.txt', { type: 'inline' }).addEtag({ weak: true }).headers.get('ETag')).toMatch(/^W\//);
    expect(res.headers.getAll('Set-Cookie')[0]).toMatch(/HttpOnly/);
  });

  it("res.deleteCookie takes the options the cookie was set with, its maxAge and expires ignored (Express 5's clearCookie)", () => {
    // One options object for both calls, as Express's docs ask of res.clearCookie: the logout must not be a 500.
    const cookie = { path: '/app', httpOnly: true, sameSite: 'lax', maxAge: 3600, expires: new Date(Date.UTC(2030, 0, 1)) } as const;
    const res = new Response('bye').setCookie('sid', 'x', cookie).deleteCookie('sid', cookie);
    expect(res.headers.getAll('Set-Cookie')[1]).toBe('sid=; Max-Age=0; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax');
  });

  it("req.rangeFor, urls.build and RouteMap.build", async () => {
    const req = Request.blank('/', { headers: { Range: 'bytes=0-1' } });
    expect(() => req.rangeFor(10, { maxrange: 1 } as never)).toThrow(/^req\.rangeFor: unknown option "maxrange": did you mean "maxRanges"\?/);
    expect(req.rangeFor(10, { maxRanges: 1 }).kind).toBe('satisfiable');
    const routes = new RouteMap({ item: '/items/<int:id>' });
    expect(() => routes.build('item', { id: 1 }, { externl: true } as never)).toThrow(/^RouteMap\.build: unknown option "externl": did you mean "external"\?/);
    expect(routes.build('item', { id: 1 }, { anchor: 'top' })).toBe('/items/1#top');
    const client = new TestClient(
      routes.app({
        item: (_req, { id }, urls) => {
          try {
            return urls.build('item', { id }, { anchors: 'top' } as never);
          } catch (error) {
            return `${(error as Error).message.split(' (')[0]} | ${urls.build('item', { id }, { anchor: 'top' })}`;
          }
        },
      }),
    );
    expect(await (await client.get('/items/2')).text()).toBe('urls.build: unknown option "anchors": did you mean "anchor"? | /items/2#top');
  });

  it("an HTML element's content options (rewriteHtml)", async () => {
    const caught: string[] = [];
    const app = rewriteHtml(Request.application(() => new Response('<p>a</p>', { contentType: 'text/html' })), {
      elements: {
        p: (element) => {
          try {
            element.append('<b>x</b>', { HTML: true } as never);
          } catch (error) {
            caught.push((error as Error).message);
          }
          element.append('<b>y</b>', { html: true });
        },
      },
    });
    expect(await (await new TestClient(app).get('/')).text()).toBe('<p>a<b>y</b></p>');
    expect(caught).toEqual([expect.stringMatching(/^element\.append: unknown option "HTML": did you mean "html"\?/)]);
  });

  it("the test client's cookie jar", () => {
    const client = new TestClient(Request.application(() => 'x'));
    expect(() => client.cookies.set('a', 'b', { secur: true } as never)).toThrow(/^client\.cookies\.set: unknown option "secur": did you mean "secure"\?/);
    expect(() => client.cookies.delete('a', { domian: 'localhost' } as never)).toThrow(/^client\.cookies\.delete: unknown option "domian": did you mean "domain"\?/);
    expect(() => client.cookies.get('a', { paths: '/' } as never)).toThrow(/^client\.cookies\.get: unknown option "paths": did you mean "path"\?/);
    expect(client.cookies.set('a', 'b', { path: '/' }).get('a', { path: '/' })).toBe('b');
  });

  it('the options of an HTTP exception, and abort', () => {
    expect(() => new HTTPNotFound('gone', { header: [['X-A', 'b']] } as never)).toThrow(/^new HTTPNotFound: unknown option "header": did you mean "headers"\?/);
    // abort names itself and its own argument: its options are the third, not the second.
    expect(() => abort(404, 'gone', { contenttype: 'text/plain' } as never)).toThrow(/^abort\(404\): unknown option "contenttype": did you mean "contentType"\?/);
    expect(() => abort(404, 'gone', 'text/plain' as never)).toThrow(/^abort\(404\): the third argument is the options object .*, not a string$/);
    expect(() => abort(302, '/login', { header: [] } as never)).toThrow(/^abort\(302\): unknown option "header": did you mean "headers"\?/);
    expect(() => abort(404, 'gone', { headers: [['X-A', 'b']] })).toThrow(HTTPNotFound);
    expect(() => new HTTPMethodNotAllowed(['GET'], 'no', { casue: 1 } as never)).toThrow(/^new HTTPMethodNotAllowed: unknown option "casue": did you mean "cause"\?/);
    expect(() => new HTTPMethodNotAllowed(['GET'], 'no', 'x' as never)).toThrow(/^new HTTPMethodNotAllowed: the third argument is the options object .*, not a string$/);
    expect(new HTTPNotFound('gone', { headers: [['X-A', 'b']] }).getResponse().headers.get('X-A')).toBe('b');
  });
});

describe('the check costs an exception nothing without options', () => {
  it('builds no message (no read of the class name) for a 404 or a redirect made without options', () => {
    let reads = 0;
    // The message names the class: it must be built only to throw, not on every 404 and redirect.
    class Gone extends HTTPNotFound {
      static override get name(): string {
        reads++;
        return 'Gone';
      }
    }
    class ToLogin extends HTTPFound {
      static override get name(): string {
        reads++;
        return 'ToLogin';
      }
    }
    expect(new Gone().name).toBe('Gone'); // the one read: the error's name
    expect(new ToLogin('/login').name).toBe('ToLogin');
    expect(reads).toBe(2);
    expect(() => new Gone('x', { header: [] } as never)).toThrow(/^new Gone: unknown option "header"/);
  });
});

describe('tsgi/forms checks its options per call, and each file of a multipart body', () => {
  it('parseForm and encodeMultipart refuse a misspelled option', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' });
    const input = async function* () {
      yield body;
    };
    await expect(parseForm(input(), contentType, { maxFileSise: 10 } as never)).rejects.toThrow(/^parseForm: unknown option "maxFileSise": did you mean "maxFileSize"\?/);
    expect(() => encodeMultipart({}, {}, { boundry: 'x' } as never)).toThrow(/^encodeMultipart: unknown option "boundry": did you mean "boundary"\?/);
    expect((await parseForm(input(), contentType, { maxFileSize: 10, contentLength: undefined })).fields.get('a')).toBe('1');
  });

  it('a file spec with a misspelled key is refused (contents: the file went empty), through Request.blank and the client too', async () => {
    const file = { filename: 'a.txt', contents: 'hello' };
    expect(() => encodeMultipart({}, { doc: file } as never)).toThrow(/^encodeMultipart: unknown option "files\.doc\.contents": did you mean "content"\?/);
    expect(() => encodeMultipart({}, [['doc', { filename: 'a.txt', content: 'x', type: 'text/plain' }]] as never)).toThrow(/^encodeMultipart: unknown option "files\.doc\.type"/);
    expect(() => encodeMultipart({}, { doc: 'hello' } as never)).toThrow(/^encodeMultipart: the files\.doc option is an options object \(\{ filename, content, contentType \}\), not a string$/);
    expect(() => Request.blank('/', { method: 'POST', files: { doc: file } } as never)).toThrow(/unknown option "files\.doc\.contents"/);
    const client = new TestClient(Request.application(async (req) => `${(await req.files()).get('doc')?.size}`));
    await expect(client.post('/', { files: { doc: [file] } } as never)).rejects.toThrow(/unknown option "files\.doc\.contents"/);
    expect(await (await client.post('/', { files: { doc: { filename: 'a.txt', content: 'hello', contentType: undefined } } })).text()).toBe('5');
  });
});

describe("a login's and a server's close options are checked per call", () => {
  it('AuthTickets.remember and sign refuse a misspelled option (persistant: a remember-me login would stay persistent)', () => {
    const tickets = new AuthTickets({ secret: 'a secret of at least thirty-two characters, for tests' });
    const res = new Response('in');
    expect(() => tickets.remember(res, 'ann', { persistant: false } as never)).toThrow(/^tickets\.remember: unknown option "persistant": did you mean "persistent"\?/);
    expect(() => tickets.sign('ann', { maxage: 60 } as never)).toThrow(/^tickets\.sign: unknown option "maxage": did you mean "maxAge"\?/);
    expect(res.headers.has('Set-Cookie')).toBe(false);
    expect(tickets.remember(res, 'ann', { persistent: false, data: undefined }).session).toBe(true);
  });

  it("serve()'s close({ idle }) refuses a misspelled option, and closes with the right one", async () => {
    const server = await serve(Request.application(() => 'hi'), { host: '127.0.0.1', port: 0, log: quiet });
    try {
      await expect(server.close({ idel: 'expire' } as never)).rejects.toThrow(/^server\.close: unknown option "idel": did you mean "idle"\?/);
      expect(await (await fetch(server.url)).text()).toBe('hi');
    } finally {
      await server.close({ timeout: 1000 });
    }
  });
});

describe("serve()'s close given as a listener", () => {
  it("closes when Node calls it with a signal's name (process.once('SIGTERM', server.close)) or an EventTarget's event", async () => {
    for (const given of [['SIGTERM', 15], [new Event('abort')]] as const) {
      const server = await serve(Request.application(() => 'hi'), { host: '127.0.0.1', port: 0, log: quiet });
      const close = server.close as (...args: unknown[]) => Promise<void>; // as a listener is called, unbound
      try {
        await close(...given);
        expect(server.server.listening).toBe(false);
      } finally {
        await server.close({ timeout: 0 });
      }
    }
  });

  it('still refuses another value where the options go (a timeout given alone)', async () => {
    const server = await serve(Request.application(() => 'hi'), { host: '127.0.0.1', port: 0, log: quiet });
    try {
      await expect(server.close(5000 as never)).rejects.toThrow(/^server\.close: the first argument is the options object \(\{ timeout, idle \}\), not a number$/);
      await expect(server.close('SIGN' as never)).rejects.toThrow(/not a string$/);
      expect(server.server.listening).toBe(true);
    } finally {
      await server.close({ timeout: 0 });
    }
  });
});

describe("another framework's name for an option is told what to write", () => {
  const post = () =>
    Request.blank('/', { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });

  it("takes Fastify's bodyLimit and busboy's limits by their tsgi names", async () => {
    await expect(post().json({ bodyLimit: 1 } as never)).rejects.toThrow('req.json: unknown option "bodyLimit": did you mean "maxBodySize"?');
    await expect(post().files({ fileSize: 1 } as never)).rejects.toThrow('unknown option "fileSize": did you mean "maxFileSize"?');
    await expect(post().files({ files: 1 } as never)).rejects.toThrow('unknown option "files": did you mean "maxFiles"?');
    await expect(post().files({ limits: { fileSize: 1 } } as never)).rejects.toThrow('unknown option "limits": give the limits themselves, { maxFileSize, maxFiles, … }');
  });

  it("says it only for busboy's names: serve's headers is not its maxHeaders, a version in server not its maxVersion", async () => {
    const app = Request.application(() => 'x');
    // Default response headers, as other servers take them, are no cap on the number of request headers.
    await expect(serve(app, { host: '127.0.0.1', port: 0, headers: { 'X-Frame-Options': 'DENY' } } as never)).rejects.toThrow(/^serve: unknown option "headers"(?!: did you mean "maxHeaders")/);
    // A key handed to Node that is no near miss of Node's names goes to Node, not refused as maxVersion (minVersion is as near).
    const server = await serve(app, { host: '127.0.0.1', port: 0, log: quiet, server: { version: 1 } as never });
    await server.close();
  });

  it("answers Express's signed cookies with where a signed value goes", () => {
    expect(() => new Response('x').setCookie('sid', '1', { signed: true } as never)).toThrow(
      'res.setCookie: unknown option "signed": tsgi signs no single cookie: keep a signed value in a CookieSessions session, or a login in AuthTickets',
    );
  });
});

describe('a key inherited from a polluted Object.prototype', () => {
  it('is no option of a plain object: every call still passes (for…in sees it, Object.hasOwn skips it)', () => {
    // An old polyfill, or a prototype pollution elsewhere, must not turn every call taking options into a TypeError.
    Object.defineProperty(Object.prototype, 'polluted', { value: true, enumerable: true, configurable: true, writable: true });
    Object.defineProperty(Object.prototype, 'type', { value: 'text/html', enumerable: true, configurable: true, writable: true });
    try {
      const res = new Response('x', { status: 200 }).setCookie('sid', 'x', { path: '/' });
      expect(res.contentType).toBe('text/plain');
      expect(res.headers.get('Set-Cookie')).toBe('sid=x; Path=/');
      expect(Request.blank('/', { method: 'POST' }).method).toBe('POST');
      expect(() => new HTTPNotFound('gone', { headers: [] })).not.toThrow();
      expect(() => secureHeaders(() => [], { contentSecurityPolicy: { directives: { 'default-src': ["'self'"] } } })).not.toThrow();
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
      delete (Object.prototype as Record<string, unknown>).type;
    }
  });
});
