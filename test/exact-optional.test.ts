/**
 * An option given as `undefined` means its default, exactly as one left out: what a consumer
 * compiled with `exactOptionalPropertyTypes` passes on when its own setting is unset. Each
 * case answers the same with every option `undefined` as with `{}`.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, serve } from 'tsgi';
import { accessLog, compress, cors, errors, requestId, secureHeaders } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const page = Request.application((req) => new Response(`${req.environ.SERVER_NAME} ${req.scriptName} ${'x'.repeat(2000)}`));

/** What a client sees of an answer: status, body and header fields but the date and the id. */
async function seen(app: App): Promise<unknown> {
  const res = await new TestClient(app).get('/', { headers: { Origin: 'https://a.example', 'Accept-Encoding': 'gzip' } });
  const headers = [...res.headers].filter(([name]) => !/^(date|x-request-id)$/i.test(name));
  return { status: res.statusCode, body: res.textBody.length, headers };
}

describe('an option given as undefined', () => {
  it('is the default in every middleware option', async () => {
    const lines: string[] = [];
    const log = { write: (line: string) => void lines.push(line) };
    const given = (all: boolean): App =>
      secureHeaders(
        requestId(
          cors(
            compress(
              errors(accessLog(page, all ? { log, format: undefined } : { log }), all ? { log, debug: undefined, onError: undefined } : { log }),
              all ? { encodings: undefined, threshold: undefined, level: undefined, brotliQuality: undefined, zstdLevel: undefined, filter: undefined } : {},
            ),
            all ? { origin: undefined, allowMethods: undefined, allowHeaders: undefined, exposeHeaders: undefined, credentials: undefined, maxAge: undefined } : {},
          ),
          all ? { header: undefined, trustIncoming: undefined, generate: undefined } : {},
        ),
        all ? { contentSecurityPolicy: undefined, strictTransportSecurity: undefined } : {},
      );
    const defaults = await seen(given(false));
    expect(JSON.stringify(defaults)).toMatch(/content-encoding.*gzip/i);
    expect(await seen(given(true))).toEqual(defaults);
    expect(lines).toHaveLength(2);
    const undated = lines.map((line) => line.replace(/\[[^\]]*\]/, '[]').replace(/ \d+(\.\d+)?$/m, ''));
    expect(undated[0]).toBe(undated[1]);
  });

  it('is the default in serve() options, over a socket', async () => {
    const log = { write() {} };
    const server = await serve(page, {
      port: 0,
      host: '127.0.0.1',
      log,
      path: undefined,
      pathMode: undefined,
      fd: undefined,
      tls: undefined,
      http2: undefined,
      headersTimeout: undefined,
      requestTimeout: undefined,
      keepAliveTimeout: undefined,
      firstByteTimeout: undefined,
      maxConnections: undefined,
      maxConnectionsPerClient: undefined,
      ipv6Subnet: undefined,
      maxConcurrentRequests: undefined,
      server: undefined,
      maxBodySize: undefined,
      sendTimeout: undefined,
      onRefused: undefined,
      serverName: undefined,
      serverPort: undefined,
      scriptName: undefined,
      multiprocess: undefined,
      maxHeaders: undefined,
    });
    try {
      const res = await fetch(`${server.url}/`);
      expect(res.status).toBe(200);
      expect((await res.text()).slice(0, 10)).toBe('127.0.0.1 ');
    } finally {
      await server.close({ timeout: undefined });
    }
  });
});
