/**
 * The app the nginx integration test (test/nginx/nginx.test.ts) serves with `tsgi serve`, two
 * instances behind one nginx.
 *
 * | Path | Answers |
 * | --- | --- |
 * | `/whoami` | JSON: the URLs the app builds, the client address, the instance and pid |
 * | `/redirect` | a redirect to `target`, made absolute from the request |
 * | `/upload` | reads the body as it streams, answers its length and the pid |
 * | `/download?bytes=N` | streams N bytes, the pid in `X-Pid` |
 * | `/slow?ms=N` | waits N ms, then answers like `/whoami` |
 * | `/crash` | the worker exits before answering, as one killed by the health check or crashing |
 * | `/boom` | throws: a logged 500 |
 * | `/legacy/…` | when `tsgi/proxy` is available and `$LEGACY_UPSTREAM` set: that service, with its redirects mapped to the public URL |
 *
 * The whole app is inside `requestId` and `errors`, as in docs/middleware.md's production stack.
 *
 * @module
 */
import { type App, Request, Response, compose, redirect } from 'tsgi';
import { errors, mount, requestId } from 'tsgi/middleware';

const CHUNK = new Uint8Array(256 * 1024).fill(120);

const whoami = (req: Request): Response =>
  Response.json({
    url: req.url,
    applicationUrl: req.applicationUrl,
    remoteAddr: req.remoteAddr,
    scheme: req.scheme,
    host: req.host,
    scriptName: req.scriptName,
    instance: process.env.TSGI_TEST_INSTANCE,
    pid: process.pid,
  });

const site = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/whoami':
      return whoami(req);
    case '/redirect':
      return redirect('target', 302);
    case '/slow':
      await new Promise((resolve) => setTimeout(resolve, Number(req.query.get('ms') ?? 100)));
      return whoami(req);
    case '/crash':
      process.exit(1);
    case '/boom':
      throw new Error('boom');
    case '/upload': {
      let received = 0;
      for await (const chunk of req.environ['tsgi.input']) received += chunk.byteLength;
      return Response.json({ received, pid: process.pid });
    }
    case '/download': {
      let left = Number(req.query.get('bytes') ?? 0);
      const body = (async function* () {
        while (left > 0) {
          const chunk = left >= CHUNK.byteLength ? CHUNK : CHUNK.subarray(0, left);
          left -= chunk.byteLength;
          yield chunk;
        }
      })();
      return new Response(body, { contentType: 'application/octet-stream', headers: { 'X-Pid': String(process.pid) } });
    }
    default:
      return new Response('not here\n', { status: 404 });
  }
});

/** `/legacy/…` through `tsgi/proxy` when this tree has it (it is loaded by name, not typed). */
async function legacy(): Promise<App | undefined> {
  const upstream = process.env.LEGACY_UPSTREAM;
  if (!upstream) return undefined;
  const name = 'tsgi/proxy';
  const proxyModule = (await import(name).catch(() => undefined)) as
    | { proxy(url: string): App; rewriteLocation(app: App, options: { upstream: string[] }): App }
    | undefined;
  if (proxyModule === undefined) return undefined;
  return proxyModule.rewriteLocation(proxyModule.proxy(upstream), { upstream: [upstream] });
}

const legacyApp = await legacy();

export const app: App = compose(requestId, errors)(legacyApp === undefined ? site : mount([['/legacy', legacyApp], ['/', site]]));
