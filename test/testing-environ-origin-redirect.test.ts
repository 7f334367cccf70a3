/**
 * A call's `environ` naming the scheme or host (Werkzeug's `environ_overrides`) describes the
 * origin the call reached: a redirect the client follows to another origin is asked at the URL
 * its `Location` names, as the request a server receives there (and Werkzeug's client, which
 * takes the scheme and host of the `Location`) — not at the overridden scheme or host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPFound, Request, Response, type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';

let server: ServerHandle;
let port: number;

/** `/go?to=URL` redirects there; any other path says at which URL it was asked. */
const app = Request.application((req) => {
  if (req.pathInfo === '/go') return new HTTPFound(req.query.get('to')!);
  return Response.json({ url: req.url, host: req.headers.get('host'), scheme: req.scheme });
});

beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0 });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

/** What the app says when the URL is asked over the socket: the truth for the redirect's target. */
async function overSocket(url: string): Promise<unknown> {
  return (await fetch(url)).json();
}

describe("a redirect to another origin than a call's environ names", () => {
  it('goes to the host the Location names, not the HTTP_HOST of the call', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${port}` });
    const target = `http://localhost:${port}/where`;
    const res = await client.get(`/go?to=${encodeURIComponent(target)}`, { environ: { HTTP_HOST: 'app.example' }, followRedirects: 1 });
    expect(res.url).toBe(target);
    expect(await res.json()).toEqual(await overSocket(target));
  });

  it('goes to the scheme the Location names, not the tsgi.url_scheme of the call', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${port}` });
    const target = `http://127.0.0.1:${port}/plain`;
    // The app is reached over https (a TLS proxy in front); it sends the browser to plain http.
    const res = await client.get(`/go?to=${encodeURIComponent(target)}`, { environ: { 'tsgi.url_scheme': 'https' }, followRedirects: 1 });
    expect(res.url).toBe(target);
    expect(await res.json()).toEqual(await overSocket(target));
  });

  it('keeps them on a redirect within the origin they name, and after the chain came back there by URL', async () => {
    const client = new TestClient(app, { baseUrl: `http://127.0.0.1:${port}` });
    const res = await client.get('/go?to=/next', { environ: { HTTP_HOST: 'app.example', 'tsgi.url_scheme': 'https' }, followRedirects: 1 });
    expect(await res.json()).toEqual({ url: 'https://app.example/next', host: 'app.example', scheme: 'https' });
  });
});
