/**
 * The mistakes a newcomer (from Express or Hono) makes first, served over a real socket: each
 * answers a 500 whose log line names what went wrong and what to write instead.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, type ServeOptions, defineMiddleware, serve } from 'tsgi';
import { errors, mount } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

/** Serves `app`, sends one GET, and answers the status and the error log. */
async function served(app: App): Promise<{ status: number; log: string }> {
  const server = await start(app);
  const res = await request(`${server.url}/`);
  return { status: res.status, log: server.log.text };
}

const hello = Request.application(() => 'hello');

describe('a Request.application handler that answers no response', () => {
  it('returning a fetch Response (Hono, fetch()) is told to convert it with Response.fromFetch', async () => {
    const app = Request.application(() => new globalThis.Response('hi') as unknown as Response);
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/Request\.application handler returned a fetch Response: .*return Response\.fromFetch\(response\)/);
    expect(log).not.toMatch(/for JSON/);
  });

  it('returning a promise of a fetch Response is told the same', async () => {
    const app = Request.application(async () => new globalThis.Response('hi') as unknown as Response);
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/returned a fetch Response: .*Response\.fromFetch/);
  });

  it('returning bytes (Express\'s res.send(buffer)) is told to wrap them in a Response, not to make JSON', async () => {
    const app = Request.application(() => Buffer.from('bytes') as unknown as Response);
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/Request\.application handler returned a Buffer: expected a Response, HTTPException, string or app \(for bytes, return new Response\(bytes\)\)/);
    expect(log).not.toMatch(/for JSON/);
  });

  it('returning undefined is asked about a missing return', async () => {
    const app = Request.application(() => undefined as unknown as Response);
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/Request\.application handler returned undefined: expected a Response, HTTPException, string or app \(a missing return\?\)/);
  });
});

describe('a defineMiddleware handler that forgets to return the answer', () => {
  it('is named as the middleware, with the line it misses', async () => {
    const stamp = defineMiddleware((async (req: Request, app: App) => {
      const res = await req.getResponse(app);
      res.headers.set('X-Stamp', '1');
    }) as unknown as (req: Request, app: App) => Promise<Response>);
    const { status, log } = await served(stamp(hello));
    expect(status).toBe(500);
    expect(log).toMatch(/defineMiddleware handler returned undefined: .*\(a missing return\? A middleware answers `return res` after `const res = await req\.getResponse\(app\)`\)/);
    expect(log).not.toMatch(/Request\.application handler/);
  });

  it('still names a Request.application handler below it as such', async () => {
    const pass = defineMiddleware((req, app) => req.getResponse(app));
    const app = Request.application(() => 42 as unknown as Response);
    const { status, log } = await served(pass(app));
    expect(status).toBe(500);
    expect(log).toMatch(/Request\.application handler returned number: .*\(for JSON, return Response\.json\(value\)\)/);
  });
});

describe('a raw gateway app', () => {
  it('yielding strings is told to encode them or to answer a Response', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return ['hello'] as unknown as Uint8Array[];
    };
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/body chunk is not a Uint8Array \(string\): encode text with new TextEncoder\(\)\.encode\(text\), or answer a Response/);
  });

  it('returning a string as its body is told to encode it or to answer a Response', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return 'hello' as unknown as Uint8Array[];
    };
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/app returned an invalid body \(string\): expected an iterable of Uint8Array: encode text first, \[new TextEncoder\(\)\.encode\(text\)\], or answer a Response/);
  });

  it('never calling startResponse is told when to call it', async () => {
    const apps: App[] = [
      () => [new TextEncoder().encode('x')],
      () =>
        (async function* () {
          yield new TextEncoder().encode('x');
        })(),
    ];
    for (const app of apps) {
      const { status, log } = await served(app);
      expect(status).toBe(500);
      expect(log).toMatch(/the app produced a body without calling startResponse: call startResponse\(status, headers\) before returning the body, or in a generator before its first yield/);
    }
  });

  it('calling startResponse twice is told about the third argument', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', []);
      startResponse('201 Created', []);
      return [];
    };
    const { status, log } = await served(app);
    expect(status).toBe(500);
    expect(log).toMatch(/startResponse was called twice without an error: call it once, or pass the error as its third argument/);
  });
});

describe('a Response built from data', () => {
  it('refuses an object or a number at construction, pointing at Response.json', () => {
    for (const value of [{ ok: true }, 42]) {
      expect(() => new Response(value as unknown as string)).toThrow(
        /^response body must be a string, bytes or an iterable of Uint8Array \(got (Object|number)\): for JSON, use Response\.json\(value\)$/,
      );
    }
  });

  it('points only data at Response.json: a Blob (the fetch Response body) or a BigInt, whose JSON is {} or an error, is named alone', () => {
    expect(() => new Response(new Blob(['x']) as unknown as string)).toThrow(
      new TypeError('response body must be a string, bytes or an iterable of Uint8Array (got Blob)'),
    );
    expect(() => new Response(10n as unknown as string)).toThrow(
      new TypeError('response body must be a string, bytes or an iterable of Uint8Array (got bigint)'),
    );
  });
});

describe('a promise where its value was meant (a forgotten await)', () => {
  it('Response.json(promise) throws at once instead of sending {}', () => {
    const pending = Promise.resolve({ ok: true });
    expect(() => Response.json(pending)).toThrow(new TypeError('Response.json got a Promise, whose JSON is {}: await it first, Response.json(await value)'));
    // A value whose JSON is {} and that is no promise is sent as before.
    expect(Response.json({}).body).toEqual(new TextEncoder().encode('{}'));
    expect(Response.json(new Map()).body).toEqual(new TextEncoder().encode('{}'));
  });

  it('new Response(promise) says to await it, not to make JSON', () => {
    expect(() => new Response(Promise.resolve('text') as unknown as string)).toThrow(
      /^response body must be a string, bytes or an iterable of Uint8Array \(got Promise\): await it first$/,
    );
  });
});

describe('serve() given Express-style arguments', () => {
  it('refuses a port given in place of the options (app.listen(3000)) instead of serving on 8000', async () => {
    await expect(serve(hello, 3000 as unknown as ServeOptions)).rejects.toThrow(
      new TypeError('serve: options must be an object, as serve(app, { port: 3000 }) (got number)'),
    );
  });

  it('refuses process.env.PORT given in place of the options, naming that port, not 8000', async () => {
    await expect(serve(hello, '3000' as unknown as ServeOptions)).rejects.toThrow(
      new TypeError('serve: options must be an object, as serve(app, { port: 3000 }) (got string)'),
    );
  });

  it('refuses a port that is no number instead of listening on a Unix socket of that name', async () => {
    await expect(serve(hello, { port: 'http' as unknown as number })).rejects.toThrow(
      new TypeError('serve: port must be a number from 0 to 65535 (got "http" (a string)); a Unix socket is { path }'),
    );
  });

  it('refuses a host holding a port, saying where the port goes', async () => {
    await expect(serve(hello, { host: 'localhost:3000' })).rejects.toThrow(
      new TypeError('serve: host "localhost:3000" holds a port: serve(app, { host: "localhost", port: 3000 })'),
    );
  });

  it('refuses an IPv6 host in brackets with its port ([::1]:8000), naming the address without its brackets', async () => {
    await expect(serve(hello, { host: '[::1]:8000' })).rejects.toThrow(
      new TypeError('serve: host "[::1]:8000" holds a port: serve(app, { host: "::1", port: 8000 })'),
    );
  });

  it('refuses an IPv6 host in brackets ([::1]) or a URL as host, as tsgi serve --host does, naming what to write instead of failing a lookup', async () => {
    await expect(serve(hello, { host: '[::1]', port: 0 })).rejects.toThrow(new TypeError('serve: host "[::1]" is in brackets: serve(app, { host: "::1" })'));
    await expect(serve(hello, { host: 'http://localhost:3000' })).rejects.toThrow(
      new TypeError('serve: host "http://localhost:3000" is a URL: serve(app, { host: "localhost", port: 3000 })'),
    );
    await expect(serve(hello, { host: 'http://[::1]', port: 0 })).rejects.toThrow(new TypeError('serve: host "http://[::1]" is a URL: serve(app, { host: "::1" })'));
  });

  it('refuses a host with white space (HOST=localhost<space> from an env file), naming the host to give, where Node failed its lookup (ENOTFOUND)', async () => {
    await expect(serve(hello, { host: 'localhost ', port: 0 })).rejects.toThrow(new TypeError('serve: host "localhost " holds white space: serve(app, { host: "localhost" })'));
    await expect(serve(hello, { host: '\t127.0.0.1\n', port: 0 })).rejects.toThrow(new TypeError('serve: host "\\t127.0.0.1\\n" holds white space: serve(app, { host: "127.0.0.1" })'));
    await expect(serve(hello, { host: ' ', port: 0 })).rejects.toThrow(new TypeError('serve: host " " holds white space: give its host name alone'));
  });

  it('listens on a plain IPv6 address (::1) and an IPv4 one, taking neither for a host with its port', async () => {
    for (const host of ['::1', '127.0.0.1']) {
      const server = await serve(hello, { host, port: 0 });
      await server.close();
    }
  });

  it('refuses an empty host (HOST= unset in a deployment) instead of listening on every interface, where the default is loopback', async () => {
    await expect(serve(hello, { host: '', port: 0 })).rejects.toThrow(
      new TypeError("serve: host is empty: leave it out to listen on 127.0.0.1, or give '0.0.0.0' or '::' to listen on every interface"),
    );
  });

  it('still takes a port as digits (process.env.PORT) and an IPv6 host', async () => {
    const server = await start(hello, { host: '::1', port: '0' as unknown as number });
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
  });
});

describe('serve() given a port Node takes', () => {
  it('still takes a port string Node reads as a number (a PORT file read with its newline, spaces)', async () => {
    for (const port of ['0\n', ' 0 ', '0\r\n']) {
      const server = await start(hello, { port: port as unknown as number });
      const res = await request(`${server.url}/`);
      expect(res.status).toBe(200);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  it('refuses a negative port string, which Node would take for a Unix socket\'s path, and an empty one (PORT= set empty)', async () => {
    await expect(serve(hello, { port: '-1' as unknown as number })).rejects.toThrow(/^serve: port must be a number from 0 to 65535 \(got "-1" \(a string\)\)/);
    for (const port of ['', ' ']) {
      await expect(serve(hello, { port: port as unknown as number })).rejects.toThrow(
        new TypeError(`serve: port must be a number from 0 to 65535 (got ${JSON.stringify(port)} (a string)); a Unix socket is { path }`),
      );
    }
  });

  it('names a port of another type without dumping it (a BigInt, a config object)', async () => {
    await expect(serve(hello, { port: 3000n as unknown as number })).rejects.toThrow(
      new TypeError('serve: port must be a number from 0 to 65535 (got 3000n (a bigint)); a Unix socket is { path }'),
    );
    const config = { port: 3000, password: 's3cret' };
    const error = await serve(hello, { port: config as unknown as number }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('serve: port must be a number from 0 to 65535 (got an object); a Unix socket is { path }');
  });
});

describe('a value that is not an app, given where one goes', () => {
  const routes = new RouteMap({ home: '/' });

  it('names what it got when the app is built, a RouteMap with the app to give', () => {
    expect(() => errors(undefined as unknown as App)).toThrow(
      new TypeError('expected a gateway app: a function or an object with respond() (got undefined)'),
    );
    expect(() => errors(routes as unknown as App)).toThrow(
      new TypeError('expected a gateway app: a function or an object with respond() (got a RouteMap: give its app, routes.app(handlers))'),
    );
    expect(() => mount({ '/api': routes as unknown as App })).toThrow(
      new TypeError('mount: the value for "/api" is not an app (got a RouteMap: give its app, routes.app(handlers))'),
    );
    expect(() => mount({ '/api': { ok: true } as unknown as App })).toThrow(new TypeError('mount: the value for "/api" is not an app (got an object without respond())'));
  });
});

describe('Response.json of a BigInt', () => {
  it('throws at once, saying how to convert it', () => {
    expect(() => Response.json({ id: 12n })).toThrow(
      /^Response\.json: Do not know how to serialize a BigInt \(JSON has no BigInt: convert it first, String\(n\), or Number\(n\) when it is safe\)$/,
    );
  });
});

describe('a middleware served as an app (not given the app it wraps)', () => {
  it('is told to give it the app, whether defineMiddleware made it or tsgi/middleware', async () => {
    const stamp = defineMiddleware({ after(_req, res) { res.headers.set('X-Stamp', '1'); } });
    for (const middleware of [stamp, errors]) {
      const { status, log } = await served(middleware as unknown as App);
      expect(status).toBe(500);
      expect(log).toMatch(/expected a gateway app: a function or an object with respond\(\) \(got an environ: a middleware served as an app\? Give it the app it wraps, serve\(middleware\(app\)\)\)/);
    }
  });
});
