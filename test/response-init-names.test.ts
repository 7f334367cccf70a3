/**
 * A `Response` init with the status or type under another framework's name is refused, not
 * served as `200 OK`: `{ statusCode: 201 }` (Fastify's `reply.statusCode`, Node's
 * `res.statusCode`), `{ code: 201 }` (`reply.code()`), `{ type: 'text/html' }` (`reply.type()`).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

describe('Response init names', () => {
  it('refuses statusCode and code, saying where the status goes', () => {
    const init = { statusCode: 201, headers: { 'x-request-id': 'a' } }; // shares a key with ResponseInit: tsc lets it through
    expect(() => Response.json({ id: 1 }, init)).toThrow(/^Response init: unknown option "statusCode": the status goes in status, \{ status: 201 \}$/);
    expect(() => new Response('made', { code: 201 } as object)).toThrow(/^Response init: unknown option "code": the status goes in status, \{ status: 201 \}$/);
  });

  it('refuses type, saying the content type is contentType', () => {
    expect(() => new Response('<p>hi</p>', { type: 'text/html' } as object)).toThrow(/^Response init: unknown option "type": the content type goes in contentType, \{ contentType: "text\/html" \}$/);
  });

  it('is a logged 500 from a handler, not a 200', async () => {
    const app = Request.application(() => Response.json({ id: 1 }, { statusCode: 201 } as object));
    const res = await new TestClient(app).post('/', { status: 500, allowErrors: true });
    expect(res.errors).toContain('unknown option "statusCode"');
  });

  it("takes an init whose type or code is no key of its own: a fetch Response (new Response(body, upstream), the web's idiom)", () => {
    const upstream = new globalThis.Response('x', { status: 201, headers: { 'x-request-id': 'a' } }); // its type ('default') is a getter
    const res = new Response('copied', upstream as never);
    expect([res.statusCode, res.headers.get('x-request-id')]).toEqual([201, 'a']);
    class Init { status = 202; get code(): number { return 1; } }
    expect(new Response('made', new Init() as never).statusCode).toBe(202);
  });

  it('takes status with them left undefined, and the usual inits', () => {
    expect(Response.json({ id: 1 }, { status: 201, statusCode: undefined } as object).statusCode).toBe(201);
    expect(new Response('x', { contentType: 'text/html', headers: { 'x-a': '1' } }).contentType).toBe('text/html');
  });
});
