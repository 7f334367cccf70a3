/**
 * `secureHeaders`: the response security headers, through the public API over a real socket.
 * Exact default fields, HSTS on https only (TLS and proxyFix), overrides and `false`, fields the
 * app set, the answers that reach it (streams, HEAD, 304, HTTP exceptions), the CSP option and
 * its nonce, and what is refused at construction.
 */
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPBadGateway, HTTPNotFound, Request, Response } from 'tsgi';
import { cspNonce, errors, lint, proxyFix, secureHeaders } from 'tsgi/middleware';
import { type ClientResponse, deferred, gatedEventStream, getFirstChunk, request, start } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

/** The fields `secureHeaders` sends by default on an http request, in order. */
const DEFAULTS: Array<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'strict-origin-when-cross-origin'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['x-dns-prefetch-control', 'off'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['x-xss-protection', '0'],
];
const HSTS: [string, string] = ['strict-transport-security', 'max-age=31536000; includeSubDomains'];

/** The response fields as sent, in order, names lower-cased, without the server's own. */
function fields(res: Pick<ClientResponse, 'rawHeaders'>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!.toLowerCase();
    if (name === 'date' || name === 'connection' || name === 'keep-alive') continue;
    out.push([name, res.rawHeaders[i + 1]!]);
  }
  return out;
}

const hello = Request.application(() => new Response('hello'));
const helloFields: Array<[string, string]> = [
  ['content-type', 'text/plain; charset=utf-8'],
  ['content-length', '5'],
];

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate?.remove());

/** One GET over TLS to `url`, trusting the test certificate. */
function httpsGet(url: string): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: certificate.cert, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode!, statusMessage: res.statusMessage!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('secureHeaders: defaults', () => {
  it('adds the default fields after the app’s, and no HSTS over http', async () => {
    const server = await start(lint(secureHeaders(lint(hello))));
    const res = await request(server.url);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(fields(res)).toEqual([...helloFields, ...DEFAULTS]);
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.headers['cross-origin-embedder-policy']).toBeUndefined();
  });

  it('adds Strict-Transport-Security on https requests: over TLS', async () => {
    const server = await start(secureHeaders(hello), { tls: { cert: certificate.cert, key: certificate.key } });
    expect(server.url).toMatch(/^https:/);
    const res = await httpsGet(server.url.replace('127.0.0.1', 'localhost'));
    expect(res.status).toBe(200);
    expect(fields(res)).toEqual([...helloFields, ...DEFAULTS, HSTS]);
  });

  it('adds it behind a proxy that says https (proxyFix outside), and not when it says http', async () => {
    const server = await start(proxyFix(secureHeaders(hello), { xProto: 1 }));
    const secure = await request(server.url, { headers: { 'x-forwarded-proto': 'https' } });
    expect(fields(secure)).toEqual([...helloFields, ...DEFAULTS, HSTS]);
    const plain = await request(server.url, { headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('secureHeaders: options', () => {
  it('sends a string instead of the default, nothing for false, COEP for true', async () => {
    const app = secureHeaders(hello, {
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
      crossOriginResourcePolicy: 'cross-origin',
      xXssProtection: false,
      xDnsPrefetchControl: false,
      originAgentCluster: false,
      crossOriginEmbedderPolicy: true,
      xContentTypeOptions: true,
      strictTransportSecurity: 'max-age=63072000; includeSubDomains; preload',
    });
    const server = await start(proxyFix(app, { xProto: 1 }));
    const res = await request(server.url, { headers: { 'x-forwarded-proto': 'https' } });
    expect(fields(res)).toEqual([
      ...helloFields,
      ['x-content-type-options', 'nosniff'],
      ['referrer-policy', 'no-referrer'],
      ['x-frame-options', 'DENY'],
      ['cross-origin-opener-policy', 'same-origin'],
      ['cross-origin-resource-policy', 'cross-origin'],
      ['cross-origin-embedder-policy', 'require-corp'],
      ['x-permitted-cross-domain-policies', 'none'],
      ['strict-transport-security', 'max-age=63072000; includeSubDomains; preload'],
    ]);
  });

  it('turns HSTS off with false, on https too', async () => {
    const server = await start(proxyFix(secureHeaders(hello, { strictTransportSecurity: false }), { xProto: 1 }));
    const res = await request(server.url, { headers: { 'x-forwarded-proto': 'https' } });
    expect(fields(res)).toEqual([...helloFields, ...DEFAULTS]);
  });

  it('keeps a field the app set itself, in any case, once, with its value', async () => {
    const app = Request.application(
      () =>
        new Response('framed', {
          headers: { 'x-frame-options': 'DENY', 'Content-Security-Policy': "default-src 'none'", 'STRICT-TRANSPORT-SECURITY': 'max-age=0' },
        }),
    );
    const server = await start(proxyFix(secureHeaders(app, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"] } } }), { xProto: 1 }));
    const res = await request(server.url, { headers: { 'x-forwarded-proto': 'https' } });
    const sent = fields(res);
    expect(sent.filter(([name]) => name === 'x-frame-options')).toEqual([['x-frame-options', 'DENY']]);
    expect(sent.filter(([name]) => name === 'content-security-policy')).toEqual([['content-security-policy', "default-src 'none'"]]);
    expect(sent.filter(([name]) => name === 'strict-transport-security')).toEqual([['strict-transport-security', 'max-age=0']]);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('secureHeaders: Content-Security-Policy', () => {
  it('serializes directives, camelCase or kebab-case, an empty list as a bare directive', async () => {
    const app = secureHeaders(hello, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          'img-src': ["'self'", 'data:', 'https://cdn.example.com'],
          scriptSrcAttr: ["'none'"],
          'upgrade-insecure-requests': [],
          'frame-src': undefined,
        },
      },
    });
    const server = await start(app);
    const res = await request(server.url);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'self'; img-src 'self' data: https://cdn.example.com; script-src-attr 'none'; upgrade-insecure-requests",
    );
    expect(fields(res).at(-1)).toEqual(['content-security-policy', res.headers['content-security-policy']]);
  });

  it('sends a string as it is, and reportOnly under Content-Security-Policy-Report-Only', async () => {
    const plain = await start(secureHeaders(hello, { contentSecurityPolicy: "default-src 'self'; report-to csp" }));
    expect((await request(plain.url)).headers['content-security-policy']).toBe("default-src 'self'; report-to csp");
    const report = await start(secureHeaders(hello, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"] }, reportOnly: true } }));
    const res = await request(report.url);
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.headers['content-security-policy-report-only']).toBe("default-src 'self'");
  });

  it('with nonce, adds a fresh one per request to script-src, the one cspNonce answers', async () => {
    const page = Request.application((req) => new Response(`<script nonce="${cspNonce(req)}">go()</script>`, { contentType: 'text/html' }));
    const server = await start(
      secureHeaders(page, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src': ["'self'"], 'object-src': ["'none'"] }, nonce: true } }),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await request(server.url);
      const policy = res.headers['content-security-policy'] as string;
      const match = /^default-src 'self'; script-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'; object-src 'none'$/.exec(policy);
      expect(match, policy).not.toBeNull();
      expect(res.body.toString()).toBe(`<script nonce="${match![1]}">go()</script>`);
      seen.add(match![1]!);
    }
    expect(seen.size).toBe(3);
  });

  it('adds the nonce to script-src-elem too, which overrides script-src for <script> (CSP3), and to it alone', async () => {
    const page = Request.application((req) => new Response(`<script nonce="${cspNonce(req)}">go()</script>`, { contentType: 'text/html' }));
    const both = await start(
      secureHeaders(page, {
        contentSecurityPolicy: {
          directives: { scriptSrc: ["'self'"], scriptSrcElem: ["'self'", 'https://cdn.example.com'], scriptSrcAttr: ["'none'"] },
          nonce: true,
        },
      }),
    );
    const res = await request(both.url);
    const policy = res.headers['content-security-policy'] as string;
    const match = /^script-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'; script-src-elem 'self' https:\/\/cdn\.example\.com 'nonce-([A-Za-z0-9+/]{22}==)'; script-src-attr 'none'$/.exec(policy);
    expect(match, policy).not.toBeNull();
    expect(match![2]).toBe(match![1]);
    expect(res.body.toString()).toBe(`<script nonce="${match![1]}">go()</script>`);
    const elemOnly = await start(
      secureHeaders(page, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"], 'script-src-elem': ["'self'"] }, nonce: true } }),
    );
    const alone = await request(elemOnly.url);
    const nonce = /nonce="([^"]+)"/.exec(alone.body.toString())![1];
    expect(alone.headers['content-security-policy']).toBe(`default-src 'self'; script-src-elem 'self' 'nonce-${nonce}'`);
  });

  it('sends no nonced policy on a 304: the browser keeps the stored one, whose nonce its cached page carries', async () => {
    // A page with a validator of its own (a version, a Last-Modified), revalidated by a
    // browser that stored it: the 304's fields replace the stored ones (RFC 9111 §3.2), so a
    // policy with a fresh nonce would block every script of the cached page (Rails drops CSP
    // from 304s for this, rails/rails#45859).
    const page = Request.application(
      (req) => new Response(`<script nonce="${cspNonce(req)}">go()</script>`, { contentType: 'text/html', headers: { ETag: '"v1"' }, conditionalResponse: true }),
    );
    const policy = { directives: { 'script-src': ["'self'"] }, nonce: true };
    const server = await start(lint(secureHeaders(lint(page), { contentSecurityPolicy: policy })));
    const first = await request(server.url);
    expect(first.status).toBe(200);
    const nonce = /nonce="([^"]+)"/.exec(first.body.toString())![1];
    expect(first.headers['content-security-policy']).toBe(`script-src 'self' 'nonce-${nonce}'`);
    const revalidated = await request(server.url, { headers: { 'if-none-match': '"v1"' } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers['content-security-policy']).toBeUndefined();
    expect(fields(revalidated).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
    // Report-only too; a policy without a nonce, the same on every answer, still goes on the 304.
    const reportOnly = await start(secureHeaders(page, { contentSecurityPolicy: { ...policy, reportOnly: true } }));
    expect((await request(reportOnly.url, { headers: { 'if-none-match': '"v1"' } })).headers['content-security-policy-report-only']).toBeUndefined();
    const versioned = Request.application(() => new Response('versioned', { headers: { ETag: '"v1"' }, conditionalResponse: true }));
    const fixed = await start(secureHeaders(versioned, { contentSecurityPolicy: { directives: { 'script-src': ["'self'"] } } }));
    const fixedAnswer = await request(fixed.url, { headers: { 'if-none-match': '"v1"' } });
    expect(fixedAnswer.status).toBe(304);
    expect(fixedAnswer.headers['content-security-policy']).toBe("script-src 'self'");
  });

  it('cspNonce throws without a secureHeaders nonce above', async () => {
    const page = Request.application((req) => new Response(cspNonce(req)));
    const server = await start(errors(secureHeaders(page), { log: { write() {} } }));
    expect((await request(server.url)).status).toBe(500);
    expect(() => cspNonce({} as never)).toThrow(/no CSP nonce: wrap the app with secureHeaders/);
  });
});

describe('secureHeaders: the answers that reach it', () => {
  it('adds the fields to a streamed body as the app starts it, without waiting for the body', async () => {
    const gate = deferred();
    const app = gatedEventStream(gate.promise);
    const server = await start(lint(secureHeaders(lint(app))));
    const { head, body } = await getFirstChunk(server.url);
    // The head and the first event are here while the app still waits at the gate.
    expect(fields(head).filter(([name]) => name !== 'content-type' && name !== 'transfer-encoding')).toEqual(DEFAULTS);
    expect(head.headers['transfer-encoding']).toBe('chunked');
    gate.resolve();
    expect(await body).toBe('data: one\n\ndata: two\n\n');
  });

  it('adds them to HEAD answers and to 304s', async () => {
    const app = Request.application(() => new Response('versioned', { headers: { ETag: '"v1"' }, conditionalResponse: true }));
    const server = await start(lint(secureHeaders(lint(app))));
    const head = await request(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(fields(head).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
    const notModified = await request(server.url, { headers: { 'if-none-match': '"v1"' } });
    expect(notModified.status).toBe(304);
    expect(fields(notModified).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
  });

  /** `/sync` answers a negotiated 404 and `/async` a 502, each with the default fields. */
  async function expectTaggedRefusals(url: string): Promise<void> {
    const missing = await request(`${url}/sync`, { headers: { accept: 'application/json' } });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/json/);
    expect(fields(missing).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
    const gateway = await request(`${url}/async`);
    expect(gateway.status).toBe(502);
    expect(fields(gateway).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
  }

  it('answers an HTTPException a raw app throws or rejects with, with the fields; a 5xx is logged', async () => {
    const thrower: App = (environ) => {
      if (environ.PATH_INFO === '/async') return Promise.reject(new HTTPBadGateway('upstream down'));
      throw new HTTPNotFound();
    };
    const server = await start(secureHeaders(thrower));
    await expectTaggedRefusals(server.url);
    expect(server.log.text).toContain('GET /async HTTP/1.1');
    expect(server.log.text).not.toContain('/sync');
    // Thrown after the app started its response: the exception's answer replaces it.
    const late = await start(
      secureHeaders((_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        throw new HTTPNotFound();
      }),
    );
    const replaced = await request(late.url);
    expect(replaced.status).toBe(404);
    expect(fields(replaced).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
  });

  it('answers an HTTPException a lazy app raises from its body before starting, with the fields', async () => {
    const enc = new TextEncoder();
    const lazy: App = (environ, startResponse) => {
      switch (environ.PATH_INFO) {
        case '/sync':
          return (function* () {
            throw new HTTPNotFound('not here');
          })();
        case '/async':
          return (async function* () {
            await Promise.resolve();
            throw new HTTPBadGateway('upstream down');
          })();
        case '/boom':
          return (function* () {
            throw new Error('boom');
          })();
        default:
          // A lazy app that does start: its chunks still stream, the fields on its head.
          return (async function* () {
            startResponse('200 OK', [['Content-Type', 'text/plain']]);
            yield enc.encode('one ');
            yield enc.encode('two');
          })();
      }
    };
    const server = await start(secureHeaders(lazy));
    await expectTaggedRefusals(server.url);
    const ok = await request(`${server.url}/ok`);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('one two');
    expect(fields(ok)).toEqual(expect.arrayContaining(DEFAULTS));
    // Any other error is still the server's 500.
    expect((await request(`${server.url}/boom`)).status).toBe(500);
  });

  it('puts the fields on the 500 of errors inside it', async () => {
    const server = await start(
      secureHeaders(
        errors(() => {
          throw new Error('boom');
        }, { log: { write() {} } }),
      ),
    );
    const res = await request(server.url);
    expect(res.status).toBe(500);
    expect(fields(res).slice(-DEFAULTS.length)).toEqual(DEFAULTS);
  });
});

describe('secureHeaders: refused at construction', () => {
  it('throws a TypeError for bad header settings', () => {
    expect(() => secureHeaders(hello, { xFrameOptions: 'DENY\r\nSet-Cookie: a=1' })).toThrow(TypeError);
    expect(() => secureHeaders(hello, { xFrameOptions: '' })).toThrow(/xFrameOptions must be true, false or a non-empty string/);
    expect(() => secureHeaders(hello, { referrerPolicy: 1 as never })).toThrow(TypeError);
    expect(() => secureHeaders(hello, { strictTransportSecurity: 'includeSubDomains' })).toThrow(/must hold max-age/);
    expect(() => secureHeaders(hello, { contentSecurityPolicy: "default-src 'self'\n" })).toThrow(TypeError);
    expect(() => secureHeaders(hello, { contentSecurityPolicy: true as never })).toThrow(TypeError);
  });

  it('throws a TypeError for a reportOnly or nonce that is not a boolean: "true" from an environment variable enforced the policy', async () => {
    const directives = { 'default-src': ["'self'"], 'script-src': ["'self'"] };
    for (const option of ['reportOnly', 'nonce'] as const) {
      for (const value of ['true', 'false', 1, 0, null]) {
        expect(() => secureHeaders(hello, { contentSecurityPolicy: { directives, [option]: value as unknown as boolean } }), `${option} ${JSON.stringify(value)}`).toThrow(
          `secureHeaders: contentSecurityPolicy.${option} must be true or false, got ${JSON.stringify(value)}`,
        );
      }
    }
    const server = await start(secureHeaders(hello, { contentSecurityPolicy: { directives, reportOnly: true, nonce: undefined } }));
    const res = await request(server.url);
    expect(res.headers['content-security-policy']).toBeUndefined();
    expect(res.headers['content-security-policy-report-only']).toBe("default-src 'self'; script-src 'self'");
  });

  it('throws a TypeError for an option it does not know, so a misspelled header is not silently left out', () => {
    expect(() => secureHeaders(hello, { xFrameOption: 'DENY' } as never)).toThrow(/secureHeaders: unknown option "xFrameOption"/);
    expect(() => secureHeaders(hello, { contentSecurityPolicy: { directives: { 'default-src': ["'self'"] }, useDefaults: true } as never })).toThrow(
      /^secureHeaders: unknown option "contentSecurityPolicy\.useDefaults"/,
    );
  });

  it('throws a TypeError for a malformed CSP: injections, unquoted keywords, bad names', () => {
    const csp = (directives: Record<string, unknown>, nonce = false) =>
      secureHeaders(hello, { contentSecurityPolicy: { directives: directives as never, nonce } });
    for (const source of ["'self'; script-src *", "'self', default-src *", "'self'\r\nX: y", 'https://a.example https://b.example', '', 'https://bücher.example']) {
      expect(() => csp({ 'default-src': [source] }), JSON.stringify(source)).toThrow(/a source is one non-empty word of visible ASCII/);
    }
    expect(() => csp({ 'default-src': ['self'] })).toThrow(/keyword only when quoted: write "'self'"/);
    expect(() => csp({ 'script-src': ['nonce-abc'] })).toThrow(/keyword only when quoted/);
    expect(() => csp({ 'default src': ["'self'"] })).toThrow(/not a directive name/);
    expect(() => csp({ defaultSrc: ["'self'"], 'default-src': ["'none'"] })).toThrow(/default-src is given twice/);
    expect(() => csp({ 'default-src': "'self'" })).toThrow(/must be a list of sources/);
    expect(() => csp({})).toThrow(/has no directive/);
    expect(() => csp({ 'default-src': ["'self'"] }, true)).toThrow(/nonce needs a script-src \(or script-src-elem\) directive/);
  });
});
