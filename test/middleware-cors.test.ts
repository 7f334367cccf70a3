/**
 * `cors`: the Fetch standard's CORS protocol, through the public API over a real socket.
 * Exact header values for preflights, actual, credentialed and refused requests, `Vary`, and
 * the answers that reach it from below (streams, HEAD, 304, HTTP exceptions, `errors`, auth).
 */
import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPBadGateway, HTTPNotFound, Request, Response } from 'tsgi';
import { basicAuth, cors, errors, lint, staticUsers } from 'tsgi/middleware';
import { type ClientResponse, deferred, gatedEventStream, getFirstChunk, request, start } from './node-helpers.ts';

const SITE = 'https://app.example.com';
const OTHER = 'https://evil.example.net';

/** The response fields CORS is about, in order, as sent (names lower-cased). */
function corsFields(res: ClientResponse): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!.toLowerCase();
    if (name.startsWith('access-control-') || name === 'vary' || name === 'content-length') out.push([name, res.rawHeaders[i + 1]!]);
  }
  return out;
}

/** A JSON app that counts its calls and says which method reached it. */
function counted(): App & { calls: number } {
  const app = Request.application((req) => {
    app.calls++;
    return Response.json({ method: req.method });
  }) as App & { calls: number };
  app.calls = 0;
  return app;
}

function preflight(url: string, origin: string, extra: Record<string, string> = {}): Promise<ClientResponse> {
  return request(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'PUT', ...extra } });
}

describe("cors: origin '*' (the default)", () => {
  it('adds Access-Control-Allow-Origin: * to every response, with Origin or not, and no Vary', async () => {
    const server = await start(cors(counted(), { exposeHeaders: ['ETag', 'X-Total'] }));
    for (const headers of [{ origin: SITE }, { origin: 'null' }, {}]) {
      const res = await request(server.url, { headers });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ method: 'GET' });
      expect(corsFields(res), JSON.stringify(headers)).toEqual([
        ['content-length', '16'],
        ['access-control-allow-origin', '*'],
        ['access-control-expose-headers', 'ETag, X-Total'],
      ]);
    }
  });

  it('answers a preflight itself: 204, no Content-Length, methods, the asked headers echoed', async () => {
    const app = counted();
    const server = await start(lint(cors(lint(app))));
    const res = await preflight(server.url, SITE, { 'access-control-request-headers': 'content-type,x-token' });
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
    expect(corsFields(res)).toEqual([
      ['access-control-allow-origin', '*'],
      ['access-control-allow-methods', 'GET, HEAD, PUT, POST, DELETE, PATCH'],
      ['access-control-allow-headers', 'content-type, x-token'],
      ['vary', 'Access-Control-Request-Headers'],
    ]);
    const bare = await preflight(server.url, SITE);
    expect(corsFields(bare)).toEqual([
      ['access-control-allow-origin', '*'],
      ['access-control-allow-methods', 'GET, HEAD, PUT, POST, DELETE, PATCH'],
      ['vary', 'Access-Control-Request-Headers'],
    ]);
    // A list that is not of field names is not echoed.
    const odd = await preflight(server.url, SITE, { 'access-control-request-headers': 'x-a, x b' });
    expect(odd.headers['access-control-allow-headers']).toBeUndefined();
    expect(app.calls).toBe(0);
  });

  it('sends the configured methods, headers and max age, without Vary', async () => {
    const server = await start(cors(counted(), { allowMethods: ['GET', 'POST', 'purge'], allowHeaders: ['Content-Type', 'Authorization'], maxAge: 600 }));
    const res = await preflight(server.url, SITE, { 'access-control-request-headers': 'x-other' });
    expect(res.status).toBe(204);
    expect(corsFields(res)).toEqual([
      ['access-control-allow-origin', '*'],
      ['access-control-allow-methods', 'GET, POST, purge'],
      ['access-control-allow-headers', 'Content-Type, Authorization'],
      ['access-control-max-age', '600'],
    ]);
  });

  it('adds Vary: Origin to an app’s own Allow-Origin naming one origin, not to its *', async () => {
    const echo = Request.application((req) => {
      const origin = req.headers.get('origin');
      return new Response('mine', { headers: origin === null ? {} : { 'Access-Control-Allow-Origin': origin } });
    });
    const server = await start(cors(echo));
    const res = await request(server.url, { headers: { origin: SITE } });
    expect(corsFields(res)).toEqual([
      ['access-control-allow-origin', SITE],
      ['content-length', '4'],
      ['vary', 'Origin'],
    ]);
    const star = await start(cors(Request.application(() => new Response('mine', { headers: { 'Access-Control-Allow-Origin': '*' } }))));
    expect(corsFields(await request(star.url, { headers: { origin: SITE } }))).toEqual([
      ['access-control-allow-origin', '*'],
      ['content-length', '4'],
    ]);
  });

  it('passes an OPTIONS that is not a preflight to the app', async () => {
    const app = counted();
    const server = await start(cors(app));
    const withOrigin = await request(server.url, { method: 'OPTIONS', headers: { origin: SITE } });
    const plain = await request(server.url, { method: 'OPTIONS', headers: { 'access-control-request-method': 'PUT' } });
    expect(app.calls).toBe(2);
    for (const res of [withOrigin, plain]) {
      expect(JSON.parse(res.body.toString())).toEqual({ method: 'OPTIONS' });
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBeUndefined();
    }
  });
});

describe('cors: listed origins and credentials', () => {
  const options = { origin: [SITE, 'http://localhost:5173'], credentials: true, exposeHeaders: ['ETag'], maxAge: 7200 };

  it('echoes an allowed origin with credentials, Expose-Headers and Vary: Origin', async () => {
    const server = await start(cors(counted(), options));
    for (const origin of [SITE, 'http://localhost:5173']) {
      const res = await request(server.url, { headers: { origin, cookie: 'sid=1' } });
      expect(corsFields(res), origin).toEqual([
        ['content-length', '16'],
        ['access-control-allow-origin', origin],
        ['access-control-allow-credentials', 'true'],
        ['access-control-expose-headers', 'ETag'],
        ['vary', 'Origin'],
      ]);
    }
  });

  it('sends no CORS field to another origin, a malformed one or null, but Vary: Origin, without crashing', async () => {
    const server = await start(cors(counted(), options));
    for (const origin of [OTHER, 'null', `${SITE}/`, 'HTTPS://APP.EXAMPLE.COM', `${SITE}, ${OTHER}`, 'https://app.example.com:443', 'garbage', '']) {
      const res = await request(server.url, { headers: { origin } });
      expect(res.status, origin).toBe(200);
      expect(corsFields(res), origin).toEqual([
        ['content-length', '16'],
        ['vary', 'Origin'],
      ]);
    }
  });

  it('adds Vary: Origin to a request without Origin (a cache must not reuse it for one)', async () => {
    const server = await start(cors(counted(), options));
    const res = await request(server.url);
    expect(corsFields(res)).toEqual([
      ['content-length', '16'],
      ['vary', 'Origin'],
    ]);
  });

  it('merges Vary: Origin into the app’s Vary', async () => {
    const app = Request.application(() => new Response('hi', { headers: [['Vary', 'Accept-Encoding'], ['Vary', 'Accept-Language']] }));
    const server = await start(cors(app, options));
    expect((await request(server.url, { headers: { origin: SITE } })).headers.vary).toBe('Accept-Encoding, Accept-Language, Origin');
    expect((await request(server.url, { headers: { origin: OTHER } })).headers.vary).toBe('Accept-Encoding, Accept-Language, Origin');
    const star = await start(cors(Request.application(() => new Response('hi', { headers: { Vary: '*' } })), options));
    expect((await request(star.url, { headers: { origin: SITE } })).headers.vary).toBe('*');
  });

  it('answers an allowed preflight with every field, and a refused one with none', async () => {
    const app = counted();
    const server = await start(cors(app, options));
    const ok = await preflight(server.url, SITE, { 'access-control-request-headers': 'authorization,content-type' });
    expect(ok.status).toBe(204);
    expect(corsFields(ok)).toEqual([
      ['access-control-allow-origin', SITE],
      ['access-control-allow-credentials', 'true'],
      ['access-control-allow-methods', 'GET, HEAD, PUT, POST, DELETE, PATCH'],
      ['access-control-allow-headers', 'authorization, content-type'],
      ['access-control-max-age', '7200'],
      ['vary', 'Origin, Access-Control-Request-Headers'],
    ]);
    for (const origin of [OTHER, 'null', 'not an origin']) {
      const refused = await preflight(server.url, origin, { 'access-control-request-headers': 'content-type' });
      expect(refused.status, origin).toBe(204);
      expect(corsFields(refused), origin).toEqual([['vary', 'Origin']]);
    }
    expect(app.calls).toBe(0);
  });

  it('allows the null origin only when listed', async () => {
    const server = await start(cors(counted(), { origin: ['null'] }));
    const res = await request(server.url, { headers: { origin: 'null' } });
    expect(res.headers['access-control-allow-origin']).toBe('null');
    expect(res.headers.vary).toBe('Origin');
    const one = await start(cors(counted(), { origin: SITE }));
    expect((await request(one.url, { headers: { origin: SITE } })).headers['access-control-allow-origin']).toBe(SITE);
    expect((await request(one.url, { headers: { origin: 'null' } })).headers['access-control-allow-origin']).toBeUndefined();
  });

  it('leaves the app’s own CORS answer alone but for Vary: Origin, merged once', async () => {
    const app = Request.application(
      () => new Response('mine', { headers: { 'Access-Control-Allow-Origin': 'https://partner.example', 'Access-Control-Expose-Headers': 'X-Mine' } }),
    );
    const server = await start(cors(app, options));
    for (const headers of [{ origin: SITE }, { origin: OTHER }, {}]) {
      const res = await request(server.url, { headers });
      expect(corsFields(res), JSON.stringify(headers)).toEqual([
        ['access-control-allow-origin', 'https://partner.example'],
        ['access-control-expose-headers', 'X-Mine'],
        ['content-length', '4'],
        ['vary', 'Origin'],
      ]);
    }
    // An app that varies on Origin already (any case) keeps its one token; Vary: * stays.
    for (const [given, sent] of [['origin', 'origin'], ['Accept-Encoding, ORIGIN', 'Accept-Encoding, ORIGIN'], ['*', '*'], ['Accept', 'Accept, Origin']]) {
      const echo = Request.application(
        (req) => new Response('mine', { headers: { 'Access-Control-Allow-Origin': req.headers.get('origin') ?? 'null', Vary: given! } }),
      );
      const res = await request((await start(cors(echo, options))).url, { headers: { origin: SITE } });
      expect(res.headers['access-control-allow-origin']).toBe(SITE);
      expect(res.rawHeaders.filter((_, i) => i % 2 === 0 && res.rawHeaders[i]!.toLowerCase() === 'vary')).toHaveLength(1);
      expect(res.headers.vary, given).toBe(sent);
    }
  });

  it('keeps one Allow-Credentials and merges Expose-Headers with the app’s', async () => {
    const app = Request.application(
      () => new Response('x', { headers: { 'Access-Control-Allow-Credentials': 'true', 'Access-Control-Expose-Headers': 'X-Route' } }),
    );
    const server = await start(cors(app, options));
    const res = await request(server.url, { headers: { origin: SITE } });
    expect(corsFields(res)).toEqual([
      ['access-control-allow-credentials', 'true'],
      ['access-control-expose-headers', 'X-Route'],
      ['content-length', '1'],
      ['access-control-allow-origin', SITE],
      ['access-control-expose-headers', 'ETag'],
      ['vary', 'Origin'],
    ]);
  });
});

describe('cors: an origin function', () => {
  it('echoes on true, sends a string as it is, refuses otherwise; may be async; sees the environ', async () => {
    const seen: Array<[string, string]> = [];
    const server = await start(
      cors(counted(), {
        credentials: true,
        origin: async (origin: string, environ: Environ) => {
          seen.push([origin, environ.PATH_INFO]);
          if (origin === 'https://fixed.example') return 'https://canonical.example';
          return origin.endsWith('.example.com');
        },
      }),
    );
    const echoed = await request(`${server.url}/items`, { headers: { origin: 'https://a.example.com' } });
    expect(echoed.headers['access-control-allow-origin']).toBe('https://a.example.com');
    expect(echoed.headers['access-control-allow-credentials']).toBe('true');
    expect(echoed.headers.vary).toBe('Origin');
    const fixed = await request(server.url, { headers: { origin: 'https://fixed.example' } });
    expect(fixed.headers['access-control-allow-origin']).toBe('https://canonical.example');
    const refused = await request(server.url, { headers: { origin: OTHER } });
    expect(corsFields(refused)).toEqual([
      ['content-length', '16'],
      ['vary', 'Origin'],
    ]);
    const pre = await preflight(server.url, 'https://b.example.com');
    expect(pre.headers['access-control-allow-origin']).toBe('https://b.example.com');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, POST, DELETE, PATCH');
    // Never asked about null or a value that is not an origin: refused.
    for (const origin of ['null', 'https://x.example.com/path', 'javascript:alert(1).example.com']) {
      const res = await request(server.url, { headers: { origin } });
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
    expect(seen).toEqual([
      ['https://a.example.com', '/items'],
      ['https://fixed.example', '/'],
      [OTHER, '/'],
      ['https://b.example.com', '/'],
    ]);
  });

  it('lets what the function throws reach errors() as a 500', async () => {
    const server = await start(
      errors(
        cors(counted(), {
          origin: () => {
            throw new Error('lookup failed');
          },
        }),
        { log: { write() {} } },
      ),
    );
    expect((await request(server.url, { headers: { origin: SITE } })).status).toBe(500);
  });
  it('throws, naming it, an answer outside its type (a match array, a number) rather than refusing unsaid: a 500 under errors()', async () => {
    const logged: string[] = [];
    const answers: Record<string, unknown> = { 'https://a.example.com': ['https://a.example.com'], 'https://b.example.com': 1 };
    // The second answered by a promise: the same check.
    const app = cors(counted(), { origin: (origin) => (origin.startsWith('https://b.') ? Promise.resolve(answers[origin] as string) : (answers[origin] as string)) });
    const server = await start(errors(app, { log: { write: (line: string) => void logged.push(line) } }));
    for (const origin of Object.keys(answers)) {
      const res = await request(server.url, { headers: { origin } });
      expect(res.status, origin).toBe(500);
      const pre = await preflight(server.url, origin);
      expect(pre.status, origin).toBe(500);
    }
    expect(logged.join('')).toContain('cors: the origin function answered Array for "https://a.example.com"');
    expect(logged.join('')).toContain('cors: the origin function answered number for "https://b.example.com"');
    // Its own answers, async too, still work.
    const own = await start(cors(counted(), { origin: async (origin) => (origin === SITE ? true : undefined) }));
    expect((await request(own.url, { headers: { origin: SITE } })).headers['access-control-allow-origin']).toBe(SITE);
    expect((await request(own.url, { headers: { origin: OTHER } })).status).toBe(200);
  });
  it("throws at the request a '*' answered with credentials, which browsers refuse (Fetch §3.2.5), rather than sending it beside Allow-Credentials", async () => {
    const logged: string[] = [];
    const app = cors(counted(), { origin: (origin) => (origin === SITE ? '*' : Promise.resolve('*')), credentials: true });
    const server = await start(errors(app, { log: { write: (line: string) => void logged.push(line) } }));
    for (const origin of [SITE, OTHER]) {
      const res = await request(server.url, { headers: { origin } });
      expect(res.status, origin).toBe(500);
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined();
      const pre = await preflight(server.url, origin);
      expect(pre.status, origin).toBe(500);
      expect(pre.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
    expect(logged.join('')).toContain(`cors: the origin function answered '*' for "${SITE}" with credentials`);
    // Without credentials, '*' is the answer it always was.
    const open = await start(cors(counted(), { origin: () => '*' }));
    const res = await request(open.url, { headers: { origin: SITE } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('cors: the answers that reach it', () => {
  const options = { origin: [SITE], credentials: true };

  it('adds the fields to a streamed body as the app starts it, without waiting for the body', async () => {
    const gate = deferred();
    const app = gatedEventStream(gate.promise);
    const server = await start(lint(cors(lint(app), options)));
    const { head, body } = await getFirstChunk(server.url, { origin: SITE });
    // The head and the first event are here while the app still waits at the gate.
    expect(head.headers['access-control-allow-origin']).toBe(SITE);
    expect(head.headers['access-control-allow-credentials']).toBe('true');
    expect(head.headers.vary).toBe('Origin');
    expect(head.headers['transfer-encoding']).toBe('chunked');
    gate.resolve();
    expect(await body).toBe('data: one\n\ndata: two\n\n');
  });

  it('adds them to HEAD answers and to 304s', async () => {
    const app = Request.application(() => new Response('versioned', { headers: { ETag: '"v1"' }, conditionalResponse: true }));
    const server = await start(lint(cors(lint(app), options)));
    const head = await request(server.url, { method: 'HEAD', headers: { origin: SITE } });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['access-control-allow-origin']).toBe(SITE);
    const notModified = await request(server.url, { headers: { origin: SITE, 'if-none-match': '"v1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['access-control-allow-origin']).toBe(SITE);
    expect(notModified.headers['access-control-allow-credentials']).toBe('true');
    expect(notModified.headers.vary).toBe('Origin');
  });

  it('answers an HTTPException a raw app throws or rejects with, with the fields; a 5xx is logged', async () => {
    const thrower: App = (environ) => {
      if (environ.PATH_INFO === '/async') return Promise.reject(new HTTPBadGateway('upstream down'));
      throw new HTTPNotFound();
    };
    const server = await start(cors(thrower, options));
    const missing = await request(`${server.url}/sync`, { headers: { origin: SITE, accept: 'application/json' } });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
    expect(missing.headers['access-control-allow-origin']).toBe(SITE);
    expect(missing.headers.vary).toBe('Accept, Origin');
    const gateway = await request(`${server.url}/async`, { headers: { origin: SITE } });
    expect(gateway.status).toBe(502);
    expect(gateway.headers['access-control-allow-origin']).toBe(SITE);
    expect(server.log.text).toContain('GET /async HTTP/1.1');
    expect(server.log.text).not.toContain('/sync');
    // Thrown after the app started its response: the exception's answer replaces it.
    const late = await start(
      cors((_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        throw new HTTPNotFound();
      }, options),
    );
    const replaced = await request(late.url, { headers: { origin: SITE } });
    expect(replaced.status).toBe(404);
    expect(replaced.headers['access-control-allow-origin']).toBe(SITE);
    // Any other error is the server's (or `errors`') business.
    const broken = await start(cors(() => { throw new Error('bug'); }, options));
    expect((await request(broken.url, { headers: { origin: SITE } })).status).toBe(500);
  });

  it('answers an HTTPException a lazy app raises from its body before starting, with the fields', async () => {
    const lazy: App = () =>
      (function* () {
        throw new HTTPNotFound();
      })();
    const server = await start(cors(lazy, options));
    const missing = await request(server.url, { headers: { origin: SITE } });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe(SITE);
    expect(missing.headers.vary).toContain('Origin');
  });

  it('gives errors()’ 500 the fields when errors sits inside', async () => {
    const server = await start(cors(errors(() => { throw new Error('bug'); }, { log: { write() {} } }), options));
    const res = await request(server.url, { headers: { origin: SITE } });
    expect(res.status).toBe(500);
    expect(res.headers['access-control-allow-origin']).toBe(SITE);
  });

  it("a body past the read's maxBodySize gets a 413 with the fields; serve()'s own refusal has none", async () => {
    const reader = Request.application(async (req) => Response.json(await req.json({ maxBodySize: 10 })));
    const body = JSON.stringify({ query: '{ a long one }' });
    const read = await start(cors(reader, options));
    const tooLarge = await request(read.url, { method: 'POST', body, headers: { origin: SITE, 'content-type': 'application/json' } });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers['access-control-allow-origin']).toBe(SITE);
    // serve() refuses a declared Content-Length past its maxBodySize before calling the app.
    const served = await start(cors(reader, options), { maxBodySize: 10 });
    const refused = await request(served.url, { method: 'POST', body, headers: { origin: SITE, 'content-type': 'application/json' } });
    expect(refused.status).toBe(413);
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('outside auth: the preflight is answered 204, not 401, and the 401 is readable', async () => {
    const server = await start(cors(basicAuth(counted(), { verify: staticUsers({ ann: 'secret' }) }), options));
    const pre = await preflight(server.url, SITE, { 'access-control-request-headers': 'authorization' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toBe('authorization');
    const denied = await request(server.url, { headers: { origin: SITE } });
    expect(denied.status).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe(SITE);
    const ok = await request(server.url, { headers: { origin: SITE, authorization: `Basic ${Buffer.from('ann:secret').toString('base64')}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
  });
});

describe('cors: options checked at once', () => {
  const app = counted();

  it('refuses credentials with any origin, and * in the lists with credentials', () => {
    expect(() => cors(app, { credentials: true })).toThrow(/credentials need the allowed origins listed/);
    expect(() => cors(app, { origin: '*', credentials: true })).toThrow(TypeError);
    expect(() => cors(app, { origin: [SITE], credentials: true, exposeHeaders: ['*'] })).toThrow(/'\*' in exposeHeaders/);
    expect(() => cors(app, { origin: [SITE], credentials: true, allowHeaders: ['*'] })).toThrow(TypeError);
    expect(() => cors(app, { origin: [SITE], credentials: true, allowMethods: ['*'] })).toThrow(TypeError);
    expect(() => cors(app, { exposeHeaders: ['*'], allowHeaders: ['*'] })).not.toThrow();
    expect(() => cors(app, { origin: () => true, credentials: true })).not.toThrow();
    // A string from an environment variable is no boolean: refused, not read as false.
    expect(() => cors(app, { origin: [SITE], credentials: 'true' as unknown as boolean })).toThrow(/credentials must be true or false, got "true"/);
  });

  it('refuses an origin written as browsers never send it, saying what to write', () => {
    expect(() => cors(app, { origin: 'https://app.example.com/' })).toThrow(/did you mean "https:\/\/app.example.com"\?/);
    expect(() => cors(app, { origin: ['https://App.Example.com'] })).toThrow(/did you mean "https:\/\/app.example.com"\?/);
    expect(() => cors(app, { origin: ['https://app.example.com:443'] })).toThrow(/did you mean "https:\/\/app.example.com"\?/);
    // A wildcard (Flask-CORS's regex habit, Django's CSRF_TRUSTED_ORIGINS): no browser sends it.
    expect(() => cors(app, { origin: ['https://app.example.com', 'https://*.example.com'] })).toThrow(
      'cors: "https://*.example.com" has a wildcard, which no browser sends: give origin a function, as (origin) => origin.endsWith(".example.com") && origin.startsWith("https://")',
    );
    expect(() => cors(app, { origin: 'https://*.example.com' })).toThrow(/has a wildcard/);
    expect(() => cors(app, { origin: ['https://bücher.example'] })).toThrow(/did you mean "https:\/\/xn--bcher-kva.example"\?/);
    expect(() => cors(app, { origin: ['app.example.com'] })).toThrow(/is not an origin/);
    expect(() => cors(app, { origin: [SITE, '*'] })).toThrow(/on its own/);
    expect(() => cors(app, { origin: true as unknown as string })).toThrow(/origin: \(\) => true/);
    // A regular expression (Express cors's origin: /…/): told the function to write, not "{} is not an origin".
    const regex = /^https:\/\/[a-z]+\.example\.com$/;
    const said = 'write a function: (origin) => /^https:\\/\\/[a-z]+\\.example\\.com$/.test(origin)';
    expect(() => cors(app, { origin: regex as unknown as string })).toThrow(`cors: origin is a regular expression, which is not taken: ${said}`);
    expect(() => cors(app, { origin: [SITE, regex] as unknown as string[] })).toThrow(`cors: origin is a regular expression, which is not taken: ${said}`);
    expect(() => cors(app, { origin: ['chrome-extension://abcdefgh', 'http://[::1]:8080', 'http://127.0.0.1:3000', 'null'] })).not.toThrow();
  });

  it('refuses names that are not tokens and a bad maxAge', () => {
    expect(() => cors(app, { allowHeaders: ['X-Ok', 'X Bad'] })).toThrow(/allowHeaders holds "X Bad"/);
    expect(() => cors(app, { allowMethods: ['GET\r\nX: y'] })).toThrow(TypeError);
    expect(() => cors(app, { exposeHeaders: [''] })).toThrow(TypeError);
    // Set-Cookie is never readable by scripts (Fetch: a forbidden response-header name), listed or not.
    for (const name of ['Set-Cookie', 'set-cookie', 'Set-Cookie2']) {
      expect(() => cors(app, { origin: [SITE], credentials: true, exposeHeaders: ['ETag', name] }), name).toThrow(
        `cors: exposeHeaders holds ${JSON.stringify(name)}, which browsers never let scripts read: with credentials the cookie is stored without it`,
      );
    }
    for (const maxAge of [-1, 1.5, Number.NaN, Infinity]) expect(() => cors(app, { maxAge }), String(maxAge)).toThrow(/maxAge/);
    expect(() => cors(app, { maxAge: 0 })).not.toThrow();
  });
});
