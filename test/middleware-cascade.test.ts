import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, HTTPGone, defineMiddleware, HTTPMethodNotAllowed, HTTPNotFound, Request, Response, serve } from 'tsgi';
import { cascade, errors, lint, mount } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const enc = new TextEncoder();

async function withServer(app: AppLike, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0 });
  try {
    await fn(server.url);
  } finally {
    await server.close();
  }
}

/** Answers `status` with the request body echoed, recording that it ran. */
function recorder(name: string, status: number, calls: string[]): App {
  return Request.application(async (req) => {
    const body = await req.text();
    calls.push(`${name}:${body}`);
    return new Response(`${name} got ${body}`, { status });
  });
}

describe('cascade', () => {
  it('answers with the first app whose status is not caught (socket)', async () => {
    const calls: string[] = [];
    const app = lint(cascade([lint(recorder('a', 404, calls)), lint(recorder('b', 200, calls)), lint(recorder('c', 200, calls))]));
    await withServer(app, async (url) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('b got ');
    });
    expect(calls).toEqual(['a:', 'b:']);
    app.assertClosed();
  });

  it('takes an HTTPException a raw app throws with a caught status as its answer: the next app is tried (socket)', async () => {
    const closed: string[] = [];
    const throwsNotFound: App = () => {
      throw new HTTPNotFound();
    };
    const bodyThrowsNotAllowed: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          throw new HTTPMethodNotAllowed(['GET']);
        } finally {
          closed.push('b');
        }
      })();
    };
    const gone: App = () => {
      throw new HTTPGone();
    };
    const calls: string[] = [];
    const app = cascade([throwsNotFound, bodyThrowsNotAllowed, recorder('c', 200, calls)]);
    await withServer(app, async (url) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('c got ');
    });
    expect(calls).toEqual(['c:']);
    expect(closed).toEqual(['b']);
    // A status the cascade does not catch is the answer: the server sends the exception's page.
    await withServer(cascade([gone, recorder('d', 200, calls)]), async (url) => {
      expect((await fetch(url)).status).toBe(410);
    });
    expect(calls).toEqual(['c:']);
  });

  it('passes the same streamed request body to every app it tries', async () => {
    const calls: string[] = [];
    const app = cascade([recorder('a', 404, calls), recorder('b', 405, calls), recorder('c', 201, calls)]);
    await withServer(app, async (url) => {
      const body = 'x'.repeat(100_000);
      const res = await fetch(url, {
        method: 'POST',
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(enc.encode(body.slice(0, 50_000)));
            controller.enqueue(enc.encode(body.slice(50_000)));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(201);
      expect(await res.text()).toBe(`c got ${body}`);
    });
    expect(calls.map((c) => c.length)).toEqual([100_002, 100_002, 100_002]);
  });

  it('sends the last answer when every app answers a caught status', async () => {
    const calls: string[] = [];
    const app = cascade([recorder('a', 404, calls), recorder('b', 404, calls)]);
    await withServer(app, async (url) => {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe('b got ');
    });
  });

  it('catches 404 and 405 by default, and what options.catch says otherwise', async () => {
    const notAllowed = new HTTPMethodNotAllowed(['GET']);
    const fallback = new Response('fallback');
    expect((await new TestClient(cascade([notAllowed, fallback])).get('/')).textBody).toBe('fallback');
    await new TestClient(cascade([notAllowed, fallback], { catch: [404] })).get('/', { status: 405 });
    const forbidden = new Response('no', { status: 403 });
    expect((await new TestClient(cascade([forbidden, fallback], { catch: [403] })).get('/')).textBody).toBe('fallback');
  });

  it('closes the bodies of skipped answers (their finally blocks run)', async () => {
    const closed: string[] = [];
    const streaming404 = (name: string): App => (_environ, start) => {
      start('404 Not Found', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          yield enc.encode('not here');
          yield enc.encode('never read');
        } finally {
          closed.push(name);
        }
      })();
    };
    const inner = [lint(streaming404('a')), lint(streaming404('b'))] as const;
    const app = lint(cascade([inner[0], inner[1], new Response('found')]));
    await withServer(app, async (url) => {
      expect(await (await fetch(url)).text()).toBe('found');
    });
    expect(closed).toEqual(['a', 'b']);
    inner[0].assertClosed();
    inner[1].assertClosed();
    app.assertClosed();
  });

  it('puts the environ back between tries, and keeps what the answering app changed', async () => {
    const seen: Array<[string, string, unknown]> = [];
    const spy = (name: string, status: number): App => (environ, start) => {
      seen.push([name, `${environ.SCRIPT_NAME}|${environ.PATH_INFO}`, environ['test.mark']]);
      environ['test.mark'] = name;
      return new Response(name, { status }).respond(environ, start);
    };
    const app = cascade([mount({ '/docs': spy('docs', 404) }), spy('site', 404), spy('last', 200)]);
    const req = Request.blank('/docs/page');
    const res = await req.getResponse(app);
    expect((await res.text())).toBe('last');
    expect(seen).toEqual([
      ['docs', '/docs|/page', undefined],
      ['site', '|/docs/page', undefined],
      ['last', '|/docs/page', undefined],
    ]);
    expect(req.environ['test.mark']).toBe('last');
    const middle = Request.blank('/x');
    await middle.getResponse(cascade([spy('a', 404), spy('b', 200), spy('c', 200)]));
    expect(middle.environ['test.mark']).toBe('b');
  });

  it('supports apps that call startResponse lazily', async () => {
    const lazy404: App = (_environ, start) =>
      (function* () {
        start('404 Not Found', []);
      })();
    const lazy200: App = (_environ, start) =>
      (async function* () {
        start('200 OK', [['Content-Type', 'text/plain']]);
        yield enc.encode('lazy');
      })();
    await withServer(lint(cascade([lint(lazy404), lint(lazy200)])), async (url) => {
      expect(await (await fetch(url)).text()).toBe('lazy');
    });
  });

  it('refuses a body over options.maxBodySize with 413 before calling any app', async () => {
    const calls: string[] = [];
    const app = cascade([recorder('a', 404, calls), recorder('b', 200, calls)], { maxBodySize: 10 });
    await withServer(app, async (url) => {
      const res = await fetch(url, { method: 'POST', body: 'x'.repeat(11) });
      expect(res.status).toBe(413);
      const ok = await fetch(url, { method: 'POST', body: 'x'.repeat(10) });
      expect(await ok.text()).toBe('b got xxxxxxxxxx');
    });
    expect(calls).toEqual(['a:xxxxxxxxxx', 'b:xxxxxxxxxx']);
  });

  it('refuses a declared Content-Length past 2^53 with 413 before calling any app or asking for the body', async () => {
    const calls: string[] = [];
    // Apps that read no body of their own: the refusal is the cascade's.
    const called = (name: string, status: number) => Request.application(() => (calls.push(name), new Response(name, { status })));
    const app = cascade([called('a', 404), called('b', 200)], { maxBodySize: 10 });
    await withServer(app, async (url) => {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(url).port), '127.0.0.1', () =>
          socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\nExpect: 100-continue\r\n\r\n'),
        );
        let got = '';
        const timer = setTimeout(() => (socket.destroy(), resolve(got)), 2000);
        socket.setEncoding('latin1');
        socket.on('data', (data: string) => (got += data));
        socket.on('end', () => (clearTimeout(timer), resolve(got)));
        socket.on('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 413 /);
    });
    expect(calls).toEqual([]);
  });

  it('lets errors of an app propagate (to errors())', async () => {
    const broken: App = () => {
      throw new Error('cascade member failed');
    };
    const log: string[] = [];
    const app = errors(cascade([broken, new Response('never')]), { log: { write: (l) => void log.push(l) } });
    await withServer(app, async (url) => {
      expect((await fetch(url)).status).toBe(500);
    });
    expect(log.join('')).toContain('cascade member failed');
  });

  it('answers the only app directly, and refuses an empty list', async () => {
    const only = new HTTPNotFound();
    expect((await Request.blank('/').getResponse(cascade([only]))).statusCode).toBe(404);
    expect(() => cascade([])).toThrow(/at least one app/);
    expect(() => cascade([42 as never])).toThrow(TypeError);
  });

  it('refuses at once a maxBodySize or catch that could never work (a string from the environment, a negative size)', () => {
    const apps = [new HTTPNotFound(), new HTTPNotFound()];
    for (const maxBodySize of ['10mb', '1000', -1, Number.NaN, null]) {
      expect(() => cascade(apps, { maxBodySize: maxBodySize as never }), String(maxBodySize)).toThrow(/cascade: maxBodySize must be a non-negative number of bytes/);
    }
    for (const caught of [['404'], [404.5], [42], 404]) {
      expect(() => cascade(apps, { catch: caught as never }), String(caught)).toThrow(/cascade: catch must list status codes/);
    }
    expect(() => cascade(apps, { maxBodySize: Infinity, catch: new Set([404, 405, 501]) })).not.toThrow();
    expect(() => cascade(apps, { maxBodySize: 0, catch: [] })).not.toThrow();
  });
  it('removes the uploads of a skipped app, and closes what it was handed, under an outer Request.application (socket)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-cascade-'));
    const closed: string[] = [];
    try {
      async function* stream(): AsyncGenerator<Uint8Array> {
        try {
          yield enc.encode('never sent');
        } finally {
          closed.push('stream');
        }
      }
      const streamer: App = (_environ, start) => (start('200 OK', [['Content-Type', 'text/plain']]), stream());
      // Parses the upload (spooled to `dir`), takes a streamed answer, then declines the request.
      const skipped = Request.application(async (req) => {
        const files = await req.files({ tmpDir: dir, spoolThreshold: 1 });
        expect(files.get('f')?.inMemory).toBe(false);
        await req.getResponse(streamer);
        return new Response('not here', { status: 404 });
      });
      const site = Request.application(() => 'site');
      const passThrough = defineMiddleware(async (req, app) => req.getResponse(app));
      await withServer(passThrough(cascade([skipped, site])), async (url) => {
        const form = new FormData();
        form.append('f', new Blob(['x'.repeat(10_000)]), 'f.txt');
        const res = await fetch(url, { method: 'POST', body: form });
        expect(await res.text()).toBe('site');
      });
      expect(await readdir(dir)).toEqual([]);
      expect(closed).toEqual(['stream']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("leaves the next app's request alone when the skipped app took charge of it and answered a stream (socket)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-cascade-next-'));
    const closed: string[] = [];
    try {
      const stream = (name: string) =>
        (async function* () {
          try {
            yield enc.encode(name);
          } finally {
            closed.push(name);
          }
        })();
      const streamer: App = (_environ, start) => (start('200 OK', [['Content-Type', 'text/plain']]), stream('dropped'));
      // The outermost Request.application, so it has charge of the request's end: it drops a
      // streamed answer (or not), then declines with a streamed 404 that cascade closes.
      const skipping = (drop: boolean) =>
        Request.application(async (req) => {
          if (drop) await req.getResponse(streamer);
          return new Response(stream('404'), { status: 404 });
        });
      // The next app parses an upload: its parse and files are its own request's end.
      const site = Request.application(async (req) => {
        const file = (await req.files({ tmpDir: dir, spoolThreshold: 1 })).get('f')!;
        return `site got ${file.size}`;
      });
      for (const drop of [true, false]) {
        closed.length = 0;
        await withServer(cascade([skipping(drop), site]), async (url) => {
          const form = new FormData();
          form.append('f', new Blob(['x'.repeat(10_000)]), 'f.txt');
          const res = await fetch(url, { method: 'POST', body: form });
          expect([drop, res.status, await res.text()]).toEqual([drop, 200, 'site got 10000']);
        });
        expect(await readdir(dir)).toEqual([]);
        expect(closed.sort()).toEqual(drop ? ['404', 'dropped'] : ['404']);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
