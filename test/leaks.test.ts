/**
 * What a production app shows and logs of the client's secrets (docs/deployment.md, "Before
 * going live"): error answers that must not echo a request body, over a socket.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { Request, Response } from 'tsgi';
import { errors } from 'tsgi/middleware';
import { type ErrorLog, errorLog, start } from './node-helpers.ts';

describe('req.json() refusing a body', () => {
  const app = Request.application(async (req) => new Response(JSON.stringify(await req.json())));
  const secrets = [
    'password=hunter2&card=4111111111111111',            // a form posted as JSON: "Unexpected token 'p', "password=…" is not valid JSON"
    '{"card":"4111111111111111","cvv":"123",}',          // a trailing comma, after the secrets
    'hunter2',                                           // short: quoted whole
    `{"note":"${'x'.repeat(40)}","token":"tok_live_abc", oops}`,
  ];

  it('answers a 400 that names the failure but quotes none of the body (Werkzeug, Fastify), over a socket', async () => {
    const server = await start(app);
    for (const body of secrets) {
      for (const accept of ['application/json', 'text/html', 'text/plain']) {
        const res = await fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', accept } });
        const text = await res.text();
        expect(res.status).toBe(400);
        expect(text).toContain('The body is not valid JSON');
        for (const secret of ['hunter2', '4111111111111111', '123', 'tok_live_abc', 'password', 'xxxx']) expect(text, `${body} (${accept})`).not.toContain(secret);
      }
    }
  });

  it('ends its detail at the failure: no ellipsis of a quote cut away (an error past the body\'s first few dozen characters)', async () => {
    const server = await start(app);
    const details: string[] = [];
    for (const body of [`[${'1,'.repeat(40)}x]`, `{"card":"4111111111111111","note":"${'y'.repeat(40)}",z}`]) {
      const res = await fetch(`${server.url}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json' } });
      expect(res.status).toBe(400);
      details.push(((await res.json()) as { message: string }).message);
    }
    expect(details).toEqual(["The body is not valid JSON: Unexpected token 'x'", 'The body is not valid JSON: Expected double-quoted property name in JSON at position 77 (line 1 column 78)']);
  });

  it('keeps where the parser stopped when it says so', async () => {
    const server = await start(app);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: '{"a":1,}', headers: { 'content-type': 'application/json', accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^The body is not valid JSON: .*position 7/);
  });
});

describe('tsgi.errors lines of an error whose message holds the request', () => {
  // The app names the path in its error, as `new Error(`no template for ${path}`)` does: the
  // path is percent-decoded, so a client chooses its line breaks and escape sequences.
  const app = Request.application((req) => {
    throw new Error(`no page for ${req.pathInfo} (agent ${req.headers.get('user-agent')})`);
  });
  const hostile = '/x%0a[tsgi] GET /admin HTTP/1.1 500: forged%0d[tsgi] hidden%1b[2J%c2%9b31m%e2%80%a8end';
  const agent = 'curl\x9b2J';

  const check = (text: string) => {
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[tsgi\] GET \/x%0a\S* HTTP\/1\.1( 500)?: Error: no page for \/x$/);
    // The message's own line break starts an indented line, never one that passes for an entry.
    expect(lines.slice(1).filter((line) => !/^\s/.test(line))).toEqual([]);
    expect(text).toContain('\n  [tsgi] GET /admin HTTP/1.1 500: forged\\x0d[tsgi] hidden\\x1b[2J\\u009b31m\\u2028end (agent curl\\u009b2J)');
    expect(text).not.toMatch(/[\r\x1b\x85\x9b\u2028\u2029]/);
  };

  it('escape its control characters and indent its line breaks, under errors() (socket)', async () => {
    const log = errorLog();
    const server = await start(errors(app, { log }));
    const res = await fetch(`${server.url}${hostile}`, { headers: { 'user-agent': agent } });
    expect(res.status).toBe(500);
    check(log.text);
  });

  it('and as the server logs it, without errors() (socket)', async () => {
    const server = await start(app);
    const res = await fetch(`${server.url}${hostile}`, { headers: { 'user-agent': agent } });
    expect(res.status).toBe(500);
    check(server.log.text);
  });

  it('escape C1, U+2028 and U+2029 in the request line too: a Request.blank of a path as received (no socket: Node refuses those bytes)', async () => {
    // `Request.blank(path)` keeps its path as given (REQUEST_URI), as a subrequest built from
    // a link or a queue message does; the line's first part named it unescaped.
    const log = errorLog();
    const res = await Request.blank('/x\u0085[tsgi] GET /admin HTTP/1.1 500: forged\u009b2J\u2028').getResponse(errors(app, { log }));
    expect(res.statusCode).toBe(500);
    const first = log.text.split('\n')[0]!;
    expect(first).toMatch(/^\[tsgi\] GET \/x\\u0085\[tsgi\] GET \/admin HTTP\/1\.1 500: forged\\u009b2J\\u2028 HTTP\/1\.1 500: Error: no page for \/x/);
    expect(log.text).not.toMatch(/[\x85\x9b\u2028\u2029]/);
  });
});

describe('proxy: the credentials and internals docs/proxy.md says pass, and the edits that keep them in', () => {
  it('forwards Cookie and Authorization and passes Server, X-Powered-By and Via back, unless the edits remove them (socket)', async () => {
    const { proxy } = await import('tsgi/proxy');
    const upstream = await start((environ, startResponse) => {
      const seen = { cookie: environ.HTTP_COOKIE ?? null, authorization: environ.HTTP_AUTHORIZATION ?? null };
      startResponse('200 OK', [['Content-Type', 'application/json'], ['Server', 'internal-app/1.2'], ['X-Powered-By', 'Express'], ['Via', '1.1 lb-3.corp.internal'], ['X-Internal-Db', '10.0.0.5']]);
      return [new TextEncoder().encode(JSON.stringify(seen))];
    });
    const headers = { cookie: 'session=abc', authorization: 'Basic YWRtaW46cHc=' };
    const asIs = proxy(upstream.url);
    const kept = proxy(upstream.url, {
      requestHeaders: { remove: ['cookie', 'authorization'] },
      responseHeaders: { remove: ['server', 'x-powered-by', 'via', 'x-internal-db'] },
    });
    onTestFinished(() => Promise.all([asIs.close(), kept.close()]).then(() => undefined));
    const plain = await start(asIs);
    const edited = await start(kept);
    const through = async (url: string) => {
      const res = await fetch(url, { headers });
      return { seen: await res.json(), fields: ['server', 'x-powered-by', 'via', 'x-internal-db'].map((name) => res.headers.get(name)) };
    };
    expect(await through(plain.url)).toEqual({
      seen: headers,
      fields: ['internal-app/1.2', 'Express', '1.1 lb-3.corp.internal, 1.1 tsgi', '10.0.0.5'],
    });
    expect(await through(edited.url)).toEqual({ seen: { cookie: null, authorization: null }, fields: [null, null, null, null] });
  });
});

describe('the cause behind a logged error', () => {
  it('is logged after its stack: the database error behind an app error, and behind a 5xx the handler answers (socket)', async () => {
    const { HTTPServiceUnavailable } = await import('tsgi');
    const app = Request.application((req) => {
      const down = new Error('connect ECONNREFUSED 10.0.0.5:5432');
      if (req.pathInfo === '/wrapped') throw new Error('query failed', { cause: down });
      throw new HTTPServiceUnavailable('Try again later.', { cause: new Error('pool exhausted', { cause: down }) });
    });
    const server = await start(errors(app));
    for (const path of ['/wrapped', '/answered']) {
      const res = await fetch(`${server.url}${path}`);
      expect(await res.text()).not.toMatch(/ECONNREFUSED|pool exhausted|query failed/);
    }
    const [wrapped, answered] = server.log.text.split(/^(?=\[tsgi\])/m);
    expect(wrapped).toMatch(/^\[tsgi\] GET \/wrapped HTTP\/1\.1 500: Error: query failed\n {4}at [^\n]*\n[\s\S]*\n {2}Caused by: Error: connect ECONNREFUSED 10\.0\.0\.5:5432\n {4}at /);
    expect(answered).toMatch(/^\[tsgi\] GET \/answered HTTP\/1\.1 503: HTTPServiceUnavailable: Try again later\.\n[\s\S]*\n {2}Caused by: Error: pool exhausted\n[\s\S]*\n {2}Caused by: Error: connect ECONNREFUSED/);
  });
});

describe('the errors an AggregateError holds', () => {
  it('are logged after its stack, the first four: the addresses behind a connect AggregateError, the rejections behind Promise.any (socket)', async () => {
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/any') await Promise.any([Promise.reject(new Error('replica a down')), Promise.reject(new Error('replica b down'))]);
      // What `net.connect` gives for a name with an IPv6 and an IPv4 address, both refused
      // (`AggregateError [ECONNREFUSED]: ` and no address in its stack), as fetch's cause.
      const refused = ['::1', '127.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3'].map((host) => new Error(`connect ECONNREFUSED ${host}:5432`));
      throw new Error('query failed', { cause: new AggregateError(refused) });
    });
    const server = await start(errors(app));
    for (const path of ['/any', '/connect']) {
      const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(3000) });
      expect(res.status).toBe(500);
      await res.arrayBuffer();
    }
    const [any, connect] = server.log.text.split(/^(?=\[tsgi\])/m);
    expect(any).toMatch(/^\[tsgi\] GET \/any HTTP\/1\.1 500: AggregateError: All promises were rejected\n(?:[\s\S]*\n)? {2}Aggregated 1 of 2: Error: replica a down\n {4}at [\s\S]*\n {2}Aggregated 2 of 2: Error: replica b down\n {4}at /);
    expect(connect).toMatch(/^\[tsgi\] GET \/connect HTTP\/1\.1 500: Error: query failed\n[\s\S]*\n {2}Caused by: AggregateError[^\n]*\n[\s\S]*\n {2}Aggregated 1 of 5: Error: connect ECONNREFUSED ::1:5432\n[\s\S]*\n {2}Aggregated 4 of 5: Error: connect ECONNREFUSED 10\.0\.0\.2:5432\n(?: {4}at [^\n]*\n)+ {2}\(1 more aggregated error\)\n$/);
  });
});

describe('a header value the server cannot send', () => {
  // A session id with a stray line break (`'sid=' + token + '\n'`): the answer is a 500, and its
  // log line says which field and why, but not the cookie: a session id in the log is a login.
  const secret = 'sid=s3ss10n-1d-0f-b0b; Path=/\n';
  const raw = (environ: unknown, startResponse: (status: string, headers: Array<[string, string]>) => void) => {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['Set-Cookie', secret]]);
    return [new TextEncoder().encode('hello')];
  };

  it('is logged without the value of a Set-Cookie, under errors() and by the server (socket)', async () => {
    const log = errorLog();
    const servers = [await start(errors(raw, { log })), await start(raw)];
    for (const server of servers) {
      const res = await fetch(server.url);
      expect(res.status).toBe(500);
      await res.arrayBuffer();
    }
    expect(log.text).toMatch(/^\[tsgi\] GET \/ HTTP\/1\.1 500: TypeError: invalid value for header Set-Cookie \(30 characters, not shown\): U\+000A at 29\n/);
    expect(servers[1]!.log.text).toMatch(/Set-Cookie/);
    expect(log.text + servers[1]!.log.text).not.toContain('s3ss10n');
  });

  it('still quotes the value of another field', async () => {
    const log = errorLog();
    const server = await start(errors((_environ: unknown, startResponse: (status: string, headers: Array<[string, string]>) => void) => {
      startResponse('200 OK', [['X-Note', 'a\nb']]);
      return [];
    }, { log }));
    await (await fetch(server.url)).arrayBuffer();
    expect(log.text).toContain('invalid value for header X-Note: "a\\nb"');
  });
});

describe('a thrown value of any shape', () => {
  // formatError runs on every logged failure: whatever was thrown, it writes one entry and the
  // client gets its 500. An error whose `stack` is no string (a number, an object whose
  // toString throws: an error rebuilt by hand, a library's own frames) made it throw, so the
  // bare server's request hung on an uncaught exception and errors() logged that TypeError
  // in place of the failure.
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const thrown: Record<string, () => unknown> = {
    '/number-stack': () => Object.assign(new Error('boom one'), { stack: 42 }),
    '/object-stack': () => Object.assign(new Error('boom two'), { stack: { toString: () => { throw new Error('no text'); } } }),
    '/revoked-proxy': () => revoked.proxy,
    '/own-cause': () => {
      const error = new Error('boom three');
      error.cause = error;
      return error;
    },
    '/string-cause': () => new Error('boom four', { cause: 'the pool\n[tsgi] GET /forged HTTP/1.1 500: x' }),
  };
  const app = Request.application((req) => {
    throw thrown[req.pathInfo]!();
  });

  for (const [name, wrap] of [['under errors()', (log: ErrorLog) => errors(app, { log })], ['by the server', () => app]] as const) {
    it(`is logged once and answered 500, ${name} (socket)`, async () => {
      const log = errorLog();
      const server = await start(wrap(log));
      const statuses: number[] = [];
      for (const path of Object.keys(thrown)) {
        const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(3000) });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses).toEqual([500, 500, 500, 500, 500]);
      const entries = (log.text + server.log.text).split(/^(?=\[tsgi\] )/m);
      expect(entries.map((entry) => /^\[tsgi\] GET (\S+)/.exec(entry)?.[1])).toEqual(Object.keys(thrown));
      expect(entries[0]).toMatch(/^\[tsgi\] GET \/number-stack HTTP\/1\.1( 500)?: Error: boom one\n$/);
      expect(entries[1]).toMatch(/^\[tsgi\] GET \/object-stack HTTP\/1\.1( 500)?: Error: boom two\n$/);
      // A revoked Proxy is read by the layers above the server before it is logged: their TypeError is.
      expect(entries[2]).toMatch(/^\[tsgi\] GET \/revoked-proxy HTTP\/1\.1( 500)?: TypeError: /);
      expect(entries[3]).toMatch(/^\[tsgi\] GET \/own-cause HTTP\/1\.1( 500)?: Error: boom three\n( {4}at [^\n]*\n)+$/);
      expect(entries[4]).toMatch(/\n {2}Caused by: the pool\n {2}\[tsgi\] GET \/forged HTTP\/1\.1 500: x\n$/);
    });
  }
});
