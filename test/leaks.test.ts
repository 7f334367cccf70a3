/**
 * What a production app shows and logs of the client's secrets (docs/deployment.md, "Before
 * going live"): error answers that must not echo a request body, over a socket.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { start } from './node-helpers.ts';

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

  it('keeps where the parser stopped when it says so', async () => {
    const server = await start(app);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: '{"a":1,}', headers: { 'content-type': 'application/json', accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^The body is not valid JSON: .*position 7/);
  });
});
