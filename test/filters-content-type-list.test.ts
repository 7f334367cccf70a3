/**
 * An upstream `Content-Type` that is not one media type — a list (`text/html; charset=utf-8,
 * text/plain`) or two fields — is no type the response filters rewrite: `replaceText` and
 * `rewriteHtml` pass such an answer through as it came (a browser reads the last type of such a
 * list, Fetch's "extract a MIME type", so rewriting it as the first would be a guess), and
 * nothing fails. Over real sockets: an upstream of node:http, `proxy` under `serve()`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { type ProxyApp, proxy, replaceText, rewriteHtml } from 'tsgi/proxy';
import { request } from './node-helpers.ts';

const PAGE = '<!doctype html><title>old</title><p>old</p>';

/** The upstream's `Content-Type` lines by path, as raw `[name, value, …]` pairs. */
const TYPES: Record<string, string[]> = {
  '/one': ['Content-Type', 'text/html; charset=utf-8'],
  '/list': ['Content-Type', 'text/html; charset=utf-8, text/plain'],
  '/bare-list': ['Content-Type', 'text/html,text/plain'],
  '/two': ['Content-Type', 'text/html; charset=utf-8', 'Content-Type', 'text/plain'],
  '/quoted': ['Content-Type', 'text/html; charset=utf-8; profile="a,b"'],
};

let upstream: http.Server;
let legacy: ProxyApp;
let server: ServerHandle;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    res.writeHead(200, [...(TYPES[req.url!] ?? []), 'Content-Length', String(Buffer.byteLength(PAGE))]);
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  legacy = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  const app = replaceText(rewriteHtml(legacy, { elements: { p: (el) => el.setAttribute('class', 'seen') } }), { replacements: [['old', 'new']] });
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
  await legacy.close();
  await new Promise((resolve) => upstream.close(resolve));
});

describe('an upstream Content-Type of several media types', () => {
  it('rewrites an answer of one type (the control)', async () => {
    const reply = await request(`${server.url}/one`);
    expect(reply.body.toString()).toBe('<!doctype html><title>new</title><p class="seen">new</p>');
  });

  it('passes an answer whose Content-Type is a list through as it came', async () => {
    for (const path of ['/list', '/bare-list']) {
      const reply = await request(`${server.url}${path}`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe(TYPES[path]![1]);
      expect(reply.body.toString()).toBe(PAGE);
    }
  });

  it('passes an answer of two Content-Type fields through as it came', async () => {
    const reply = await request(`${server.url}/two`);
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe(PAGE);
  });

  it('takes a comma inside a quoted parameter for no list', async () => {
    const reply = await request(`${server.url}/quoted`);
    expect(reply.body.toString()).toBe('<!doctype html><title>new</title><p class="seen">new</p>');
  });
});
