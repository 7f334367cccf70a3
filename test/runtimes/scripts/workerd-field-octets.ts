/**
 * A Worker for test/runtimes/workerd-field-octets.test.ts: answers, as JSON, the request's
 * `X-Name` field as the environ holds it and as `req.headers` reads it (each as its character
 * codes), and the `c` cookie as `req.cookies` decodes it; the `X-Name` field goes back as the
 * answer's `X-Echo` field, as the environ holds it. Under `/inner`, a fetch handler through
 * `fromFetchHandler` answers the same JSON of its `Request`'s `X-Name`, and sends a field of
 * its own past U+00FF (`X-Price: 5 €`), as a handler on workerd may.
 */
import { Request, Response } from 'tsgi';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { mount } from 'tsgi/middleware';

const codes = (text: string | null | undefined) => (text == null ? null : [...text].map((c) => c.codePointAt(0)));

const app = Request.application((req) => {
  const res = Response.json({
    environ: codes(req.environ.HTTP_X_NAME as string | undefined),
    header: codes(req.headers.get('X-Name')),
    cookie: req.cookies.c ?? null,
  });
  const name = req.environ.HTTP_X_NAME as string | undefined;
  if (name !== undefined) res.headers.set('X-Echo', name);
  return res;
});

const inner = fromFetchHandler(
  (request) =>
    new globalThis.Response(JSON.stringify({ header: codes(request.headers.get('X-Name')) }), {
      headers: { 'Content-Type': 'application/json', 'X-Price': '5 €' },
    }),
);

export default { fetch: toFetchHandler(mount({ '/inner': inner, '/': app })) };
