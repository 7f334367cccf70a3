/**
 * `requestId`: one id per request, kept from a proxy or made, in the environ, the request's
 * field (passed on by `proxy`) and the response, over real sockets.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, HTTPBadGateway, HTTPNotFound, Request, Response } from 'tsgi';
import { accessLog, cors, errors, requestId, requestIdKey, secureHeaders } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { bytes, deferred, parseRaw, rawExchange, rawGet, request, start, until } from './node-helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Answers the id the app sees through the key and through its request field. */
const seen = Request.application((req) =>
  Response.json({ key: requestIdKey.get(req) ?? null, field: req.headers.get('x-request-id') }),
);

describe('requestId', () => {
  it('makes a UUID when the request brings none: the app, the request field and the response agree', async () => {
    const server = await start(requestId(seen));
    const first = await request(`${server.url}/`);
    const second = await request(`${server.url}/`);
    const id = first.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    expect(JSON.parse(first.body.toString())).toEqual({ key: id, field: id });
    expect(second.headers['x-request-id']).not.toBe(id);
  });

  it("keeps a proxy's well-formed id, and replaces one that could forge a log line or is too long", async () => {
    const server = await start(requestId(seen));
    const kept = await request(`${server.url}/`, { headers: { 'X-Request-Id': 'a1b2c3d4e5f6' } });
    expect(kept.headers['x-request-id']).toBe('a1b2c3d4e5f6');
    expect(JSON.parse(kept.body.toString())).toEqual({ key: 'a1b2c3d4e5f6', field: 'a1b2c3d4e5f6' });
    for (const bad of ['two words', 'x'.repeat(201), 'a"b', '']) {
      const res = await request(`${server.url}/`, { headers: { 'X-Request-Id': bad } });
      const id = res.headers['x-request-id'] as string;
      expect(id, bad).toMatch(UUID);
      expect(JSON.parse(res.body.toString()), bad).toEqual({ key: id, field: id });
    }
  });

  it('keeps the common trace-id formats whole, one field in the json access log and the errors() line', async () => {
    const kept: Array<[string, string]> = [
      ['X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'],
      ['X-Amzn-Trace-Id', 'Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;Lineage=a87bd80c:1|68fd508a:5'],
      ['X-Cloud-Trace-Context', '105445aa7843bc8bf206b120001000/1;o=1'],
      ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ['b3', '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90'],
      ['uber-trace-id', '7f9d4b0c1e2a3f45%3A1e2a3f457f9d4b0c%3A0%3A1'],
      ['Request-Id', '|4bf92f3577b34da6a3ce929d0e0e4736.00f067aa0ba902b7.'],
      ['cf-ray', '230b030023ae2822-SJC'],
      ['X-Request-Id', '6f0c3a5e-1b2d-4c3e-9f4a-5b6c7d8e9f01'],
    ];
    const site = Request.application((req) => {
      if (req.path === '/boom') throw new Error('boom');
      return Response.json({ key: requestIdKey.get(req) ?? null });
    });
    for (const [header, value] of kept) {
      const lines: string[] = [];
      const errorLines: string[] = [];
      const logged = accessLog(errors(site, { log: { write: (m) => void errorLines.push(m) } }), { format: 'json', log: { write: (line: string) => void lines.push(line) } });
      const server = await start(requestId(logged, { header }));
      const res = await request(`${server.url}/`, { headers: { [header]: value } });
      expect([res.headers[header.toLowerCase()], JSON.parse(res.body.toString()).key], value).toEqual([value, value]);
      expect((await request(`${server.url}/boom`, { headers: { [header]: value } })).status).toBe(500);
      await until(() => lines.length === 2);
      expect(lines.map((line) => JSON.parse(line).request_id), value).toEqual([value, value]);
      // `[tsgi] GET /boom HTTP/1.1 500 request_id=<id>: Error: boom`: the id ends at the first space.
      expect(errorLines.join('').split(' ')[5], value).toBe(`request_id=${value}:`);
      await server.close();
    }
  });

  it('still replaces an id with a space, a tab, a quote, a backslash, angle brackets or a non-ASCII byte (raw socket)', async () => {
    const server = await start(requestId(seen));
    for (const bad of ['a b', 'a\tb', 'a"b', "a'b", 'a\\b', 'a`b', '<script>', 'caf\u00e9']) {
      const answer = parseRaw((await rawExchange(server.port, Buffer.from(rawGet('/', `X-Request-Id: ${bad}\r\n`), 'latin1'))).raw);
      expect(answer.status, bad).toBe(200);
      expect(answer.header('x-request-id'), bad).toMatch(UUID);
    }
  });

  it('trustIncoming: false makes its own id whatever the client sends; header names another field', async () => {
    const server = await start(requestId(seen, { trustIncoming: false }));
    const res = await request(`${server.url}/`, { headers: { 'X-Request-Id': 'chosen-by-client' } });
    expect(res.headers['x-request-id']).toMatch(UUID);
    const other = await start(requestId((environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(String(environ.HTTP_X_CORRELATION_ID))];
    }, { header: 'X-Correlation-Id', generate: () => 'made-1' }));
    const answer = await request(`${other.url}/`);
    expect([answer.headers['x-correlation-id'], answer.headers['x-request-id'], answer.body.toString()]).toEqual(['made-1', undefined, 'made-1']);
    expect(() => requestId(seen, { header: 'X Request' })).toThrow(TypeError);
  });

  it("leaves the app's own field alone, tags HTTPException pages and streamed bodies without holding them", async () => {
    const gate = deferred();
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/own') {
        startResponse('200 OK', [['X-Request-Id', 'the-apps']]);
        return [];
      }
      if (environ.PATH_INFO === '/missing') throw new HTTPNotFound();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield bytes('first;');
        await gate.promise;
        yield bytes('second');
      })();
    };
    const server = await start(requestId(app, { generate: () => 'id-7' }));
    const own = await request(`${server.url}/own`);
    expect(own.rawHeaders.filter((_, i) => i % 2 === 0 && own.rawHeaders[i]!.toLowerCase() === 'x-request-id')).toHaveLength(1);
    expect(own.headers['x-request-id']).toBe('the-apps');
    const missing = await request(`${server.url}/missing`);
    expect([missing.status, missing.headers['x-request-id']]).toEqual([404, 'id-7']);
    // The head (with the id) arrives while the body still waits on the gate.
    const head = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${server.url}/stream`, { agent: false }, resolve).on('error', reject));
    expect(head.headers['x-request-id']).toBe('id-7');
    let text = '';
    head.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    gate.resolve();
    await new Promise((resolve) => head.on('end', resolve));
    expect(text).toBe('first;second');
  });

  it('tags the page of an HTTPException a lazy app raises from its body before starting', async () => {
    const lazy: App = () =>
      (async function* () {
        await Promise.resolve();
        throw new HTTPNotFound();
      })();
    const server = await start(requestId(lazy, { generate: () => 'id-8' }));
    const missing = await request(server.url);
    expect([missing.status, missing.headers['x-request-id']]).toEqual([404, 'id-8']);
  });

  it('logs a 5xx HTTPException it answers with its status and id, and reports it to an errors() above (its onError)', async () => {
    const failing: App = () => {
      throw new HTTPBadGateway('The upstream did not answer.');
    };
    const alone = await start(requestId(failing, { generate: () => 'id-9' }));
    const res = await request(`${alone.url}/p`);
    expect([res.status, res.headers['x-request-id']]).toEqual([502, 'id-9']);
    expect(alone.log.text).toMatch(/^\[tsgi\] GET \/p HTTP\/1\.1 502 request_id=id-9: HTTPBadGateway: The upstream did not answer\./);

    // errors() outermost, as Paste's ErrorMiddleware sits: the 502 is its failure to log and report.
    const reported: unknown[] = [];
    const log: string[] = [];
    const wrapped = await start(errors(requestId(failing, { generate: () => 'id-10' }), { log: { write: (m) => void log.push(m) }, onError: (error) => void reported.push(error) }));
    const page = await request(`${wrapped.url}/q`);
    expect([page.status, page.headers['x-request-id']]).toEqual([502, 'id-10']);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(HTTPBadGateway);
    expect(log.join('')).toMatch(/^\[tsgi\] GET \/q HTTP\/1\.1 502 request_id=id-10: HTTPBadGateway: The upstream did not answer\./);
    expect(wrapped.log.text).toBe('');
  });

  it('answers a lazy app’s HTTPException raised before it starts as an eager one’s: every layer’s fields, the id in the 5xx log line', async () => {
    const eager: App = () => {
      throw new HTTPBadGateway('The upstream did not answer.');
    };
    // It would call startResponse from its body (PEP 3333's lazy start), but fails first.
    const lazy: App = () =>
      (async function* () {
        await Promise.resolve();
        throw new HTTPBadGateway('The upstream did not answer.');
      })();
    const seen: unknown[][] = [];
    for (const app of [eager, lazy]) {
      const server = await start(requestId(cors(secureHeaders(app), { origin: 'https://a.test' }), { generate: () => 'id-11' }));
      const res = await request(`${server.url}/p`, { headers: { origin: 'https://a.test' } });
      seen.push([res.status, res.headers['x-request-id'], res.headers['access-control-allow-origin'], res.headers['x-content-type-options'], server.log.text.split('\n')[0]]);
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]).toEqual([502, 'id-11', 'https://a.test', 'nosniff', '[tsgi] GET /p HTTP/1.1 502 request_id=id-11: HTTPBadGateway: The upstream did not answer.']);
  });

  it("tags the server's own 500 for an error that escapes it, thrown or rejected, before or after startResponse: the id its log line names", async () => {
    const boom = () => {
      throw new Error('boom');
    };
    const apps: App[] = [
      boom,
      async () => boom(),
      (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/csv']]);
        return boom();
      },
      Request.application(boom),
    ];
    for (const [i, app] of apps.entries()) {
      const server = await start(requestId(app, { generate: () => `id-${i}` }));
      const res = await request(`${server.url}/p`);
      expect([i, res.status, res.headers['x-request-id'], res.headers['content-type']]).toEqual([i, 500, `id-${i}`, 'text/plain; charset=utf-8']);
      expect(server.log.text).toMatch(new RegExp(`^\\[tsgi\\] GET /p HTTP/1\\.1 request_id=id-${i}: Error: boom\\n`));
      expect(server.log.text.match(/Error: boom/g)).toHaveLength(1);
    }
  });

  it("an errors above it answers an error that escapes it with its 500 page and the id, logged once with it, its onError told", async () => {
    const told: unknown[] = [];
    const app = errors(
      requestId(() => {
        throw new Error('boom');
      }, { generate: () => 'id-e' }),
      { onError: (error) => void told.push(error) },
    );
    const server = await start(app);
    const res = await request(`${server.url}/p`);
    expect([res.status, res.headers['x-request-id'], res.body.toString()]).toEqual([500, 'id-e', expect.stringContaining('500 Internal Server Error')]);
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/p HTTP\/1\.1 500 request_id=id-e: Error: boom\n/);
    expect(server.log.text.match(/Error: boom/g)).toHaveLength(1);
    expect(told).toEqual([new Error('boom')]);
  });

  it('leaves a handler that awaits req.getResponse(requestId(app)) in a try/catch catching the error the app throws, nothing logged', async () => {
    const inner = requestId(() => {
      throw new Error('boom');
    });
    const server = await start(
      Request.application(async (req) => {
        try {
          return await req.getResponse(inner);
        } catch (error) {
          return new Response(`caught ${(error as Error).message}`, { status: 503 });
        }
      }),
    );
    const res = await request(`${server.url}/p`);
    expect([res.status, res.body.toString()]).toEqual([503, 'caught boom']);
    expect(server.log.text).toBe('');
  });

  it('passes the id on to the service behind proxy, and accessLog above it can print it', async () => {
    const upstreamSaw: Array<string | undefined> = [];
    const upstream = http.createServer((req, res) => {
      upstreamSaw.push(req.headers['x-request-id'] as string | undefined);
      res.end('upstream');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const lines: string[] = [];
      const { port } = upstream.address() as { port: number };
      const logged = accessLog(proxy(`http://127.0.0.1:${port}`), {
        format: (entry) => `${entry.requestLine} ${entry.status} ${requestIdKey.get(entry.environ)}`,
        log: { write: (line: string) => void lines.push(line.trimEnd()) },
      });
      const server = await start(requestId(logged));
      const made = await request(`${server.url}/a`);
      const kept = await request(`${server.url}/b`, { headers: { 'X-Request-Id': 'from-nginx-42' } });
      const id = made.headers['x-request-id'] as string;
      expect(id).toMatch(UUID);
      expect(kept.headers['x-request-id']).toBe('from-nginx-42');
      expect(upstreamSaw).toEqual([id, 'from-nginx-42']);
      expect(lines).toEqual([`GET /a HTTP/1.1 200 ${id}`, 'GET /b HTTP/1.1 200 from-nginx-42']);
    } finally {
      upstream.close();
    }
  });

  it('refuses at once a header that carries the request itself (its type, length, host, credentials, a hop-by-hop field)', () => {
    for (const header of ['Content-Type', 'content-length', 'Content-Encoding', 'Host', 'Cookie', 'Authorization', 'Transfer-Encoding', 'Connection']) {
      expect(() => requestId(seen, { header }), header).toThrow(/requestId: header/);
    }
    expect(() => requestId(seen, { header: 'X-Trace-Id' })).not.toThrow();
  });

  it('refuses an id from generate() that is not well formed (a 500, not a broken log line)', async () => {
    const server = await start(requestId(seen, { generate: () => 'bad id\r\nX: y' }));
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(500);
    expect(res.headers['x-request-id']).toBeUndefined();
    expect(server.log.text).toMatch(/requestId: generate\(\) answered/);
  });
});
