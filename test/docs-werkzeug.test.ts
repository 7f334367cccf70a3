/**
 * What the docs say Werkzeug does, checked against Werkzeug itself, run by `python3` (skipped
 * where it cannot import `werkzeug`; Flask-CORS's likewise): a Flask or Werkzeug user reads these
 * comparisons to know what changes when the app moves, so each one stated as Werkzeug's behaviour
 * is Werkzeug's.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Request, Response, redirect } from 'tsgi';
import { safeFilename } from 'tsgi/forms';
import { cors, mount, proxyFix, proxyFixOrigKey } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

const page = (name: string) => readFileSync(fileURLToPath(new URL(`../docs/${name}`, import.meta.url)), 'utf8').replaceAll(/\s+/g, ' ');

/** Runs `script` under python3 and answers what it printed, trimmed. */
function python(script: string): string {
  const run = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return run.stdout.trim();
}

const hasWerkzeug = spawnSync('python3', ['-c', 'import werkzeug'], { stdio: 'ignore' }).status === 0;
const hasFlaskCors = spawnSync('python3', ['-c', 'import flask_cors'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasWerkzeug)('the docs on Werkzeug', () => {
  it('negotiation.md, a multilingual site: what Werkzeug\'s best_match picks for the example header', () => {
    const said = /`Accept-Language: ([^`]+)` goes to `\/(\w+)\/` \([^)]*Werkzeug's `best_match` (finds it too|answers `(\w+)`)/.exec(page('negotiation.md'));
    expect(said, 'negotiation.md says what Werkzeug picks for the multilingual example').not.toBeNull();
    const [, header, ours, , theirs] = said!;
    const offers = ['en', 'de', 'ja', 'ar'];
    expect(Request.blank('/', { headers: { 'Accept-Language': header! } }).acceptLanguage.bestMatch(offers, 'en')).toBe(ours);
    const werkzeug = python(
      `from werkzeug.datastructures import LanguageAccept\nfrom werkzeug.http import parse_accept_header\nprint(parse_accept_header(${JSON.stringify(header)}, LanguageAccept).best_match(${JSON.stringify(offers)}, 'en'))`,
    );
    expect(werkzeug).toBe(theirs ?? ours);
  });

  it('negotiation.md, where a header is off the grammar: what the table says tsgi and Werkzeug answer', () => {
    const rows = [...page('negotiation.md').matchAll(/\| `(Accept(?:-Charset|-Language)?): ([^`]+)`, offers `(\[[^\]]+\])` \| `([^`]+)`[^|]*\| `([^`]+)`[^|]*\|/g)];
    expect(rows.map((row) => row[1])).toEqual(['Accept', 'Accept-Charset', 'Accept-Language']);
    const classes = { Accept: 'MIMEAccept', 'Accept-Charset': 'CharsetAccept', 'Accept-Language': 'LanguageAccept' } as const;
    for (const [, name, header, offersText, ours, theirs] of rows) {
      const offers = JSON.parse(offersText!.replaceAll("'", '"')) as string[];
      const req = Request.blank('/', { headers: { [name!]: header! } });
      const negotiated = { Accept: req.accept, 'Accept-Charset': req.acceptCharset, 'Accept-Language': req.acceptLanguage }[name as keyof typeof classes];
      expect(String(negotiated.bestMatch(offers)), `${name}: ${header}`).toBe(ours);
      const cls = classes[name as keyof typeof classes];
      const werkzeug = python(
        `from werkzeug.datastructures import ${cls}\nfrom werkzeug.http import parse_accept_header\nprint(parse_accept_header(${JSON.stringify(header)}, ${cls}).best_match(${JSON.stringify(offers)}))`,
      );
      expect(werkzeug, `Werkzeug, ${name}: ${header}`).toBe(theirs);
    }
  });

  it('request.md, URL parts: req.url quotes what no URI may hold, and what the page says of Werkzeug\'s request.url holds', () => {
    const row = /\| `path`, `pathQs` \|[^|]*\|([^|]*)\|/.exec(page('request.md'))![1]!;
    const req = Request.blank('/caf%C3%A9/a%20b');
    req.queryString = 'q="<x>"';
    expect(req.url).toBe('http://localhost/caf%C3%A9/a%20b?q=%22%3Cx%3E%22');
    expect(row).toContain('`?q=%22%3Cx%3E%22`');
    // WSGI's environ holds the path's bytes as ISO-8859-1 text (PEP 3333).
    const werkzeug = python(
      "from werkzeug.wrappers import Request\nfrom werkzeug.test import EnvironBuilder\nenv = EnvironBuilder(path='/').get_environ()\nenv['PATH_INFO'] = '/café/a b'.encode().decode('latin-1')\nenv['QUERY_STRING'] = 'q=\"<x>\"'\nprint(Request(env).url)",
    );
    if (/as Werkzeug's `request\.url` is/.test(row)) expect(werkzeug).toBe(req.url);
    else expect(row).toContain(`\`${werkzeug}\``);
  });

  it('middleware.md, mount: where Werkzeug\'s DispatcherMiddleware gives the same SCRIPT_NAME and PATH_INFO, and where the page says it does not', async () => {
    const said = /\*\*Werkzeug `DispatcherMiddleware\(app, \{'\/blog': blog\}\)`\*\*: (.*?) - \*\*/.exec(page('middleware.md'));
    expect(said, 'middleware.md compares mount with DispatcherMiddleware').not.toBeNull();
    const differing = new Set([...said![1]!.matchAll(/unclean path: `([^`]+)`/g)].map((m) => m[1]!));
    const paths = ['/blog', '/blog/', '/blog/x', '/blogx', '/blog//x', '/x'];
    const app = (name: string) => (environ: Record<string, unknown>, start: (status: string, headers: [string, string][]) => void) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(`${name} ${JSON.stringify(environ.SCRIPT_NAME)} ${JSON.stringify(environ.PATH_INFO)}`)];
    };
    const client = new TestClient(mount({ '/': app('root'), '/blog': app('blog') }), { status: '*' });
    const ours = await Promise.all(paths.map(async (path) => (await client.get(path)).textBody));
    const werkzeug = python(
      `from werkzeug.middleware.dispatcher import DispatcherMiddleware\nfrom werkzeug.test import Client\nimport json\ndef mk(name):\n  def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [(name + ' ' + json.dumps(environ['SCRIPT_NAME']) + ' ' + json.dumps(environ['PATH_INFO'])).encode()]\n  return app\nc = Client(DispatcherMiddleware(mk('root'), {'/blog': mk('blog')}))\nfor p in ${JSON.stringify(paths)}: print(c.get(p).get_data(as_text=True))`,
    ).split('\n');
    paths.forEach((path, i) => {
      if (differing.has(path)) expect(ours[i], path).not.toBe(werkzeug[i]);
      else expect(ours[i], path).toBe(werkzeug[i]);
    });
  });

  it('response.md, res.attachment: the ASCII names the page shows, and Werkzeug\'s send_file where it writes another', () => {
    const row = page('response.md').split(' | ').find((cell) => cell.includes('`filename` then the name in ASCII'))!;
    const examples = [...row.matchAll(/`([^`]*[^\x00-\x7f][^`]*)` → `([^`]+)`/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    const werkzeug = python(
      `import io, json\nfrom werkzeug.test import EnvironBuilder\nfrom werkzeug.utils import send_file\nenv = EnvironBuilder().get_environ()\nfor n in json.loads(${JSON.stringify(JSON.stringify(examples.map(([name]) => name)))}):\n  print(send_file(io.BytesIO(b'x'), environ=env, download_name=n, as_attachment=True).headers['Content-Disposition'])`,
    ).split('\n');
    examples.forEach(([name, ascii], i) => {
      const res = new Response('x');
      res.attachment(name);
      expect(/^attachment; filename="?([^";]*)"?;/.exec(res.headers.get('content-disposition')!)?.[1]).toBe(ascii);
      const theirs = /filename="?([^";]*)"?;/.exec(werkzeug[i]!)![1]!;
      if (theirs !== ascii) expect(row, `Werkzeug writes ${name} as ${theirs}`).toContain(`\`${theirs}\``);
    });
  });

  it('forms.md, safeFilename: the names it answers \'\' for, and those the page says Werkzeug\'s secure_filename answers \'\' for too', () => {
    const cell = page('forms.md').split(' | ').find((text) => text.startsWith('a name safe to join to a folder'))!;
    const said = /`''` for a name such as (.*?), as Werkzeug answers `''` too/.exec(cell);
    expect(said, 'forms.md says which names safeFilename and Werkzeug answer empty').not.toBeNull();
    const names = [...said![1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThanOrEqual(2);
    for (const name of names) expect(safeFilename(name), name).toBe('');
    const werkzeug = python(`import json\nfrom werkzeug.utils import secure_filename\nprint(json.dumps([secure_filename(n) for n in json.loads(${JSON.stringify(JSON.stringify(names))})]))`);
    expect(Object.fromEntries(names.map((name, i) => [name, (JSON.parse(werkzeug) as string[])[i]]))).toEqual(Object.fromEntries(names.map((name) => [name, ''])));
  });

  it('upgrading.md, safeFilename strips more: the examples are safeFilename\'s, and Werkzeug\'s secure_filename is named where it writes another', () => {
    const bullet = /\*\*`safeFilename` strips more\.\*\*(.*?)\*Affects:\*/.exec(page('upgrading.md'))![1]!;
    const examples = [...bullet.matchAll(/`([^`]+)` → `([^`]+)`/g)].map((m) => [m[1]!, m[2]!] as const);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    const werkzeug = JSON.parse(python(`import json\nfrom werkzeug.utils import secure_filename\nprint(json.dumps([secure_filename(n) for n in json.loads(${JSON.stringify(JSON.stringify(examples.map(([name]) => name)))})]))`)) as string[];
    examples.forEach(([name, safe], i) => {
      expect(safeFilename(name), name).toBe(safe);
      if (werkzeug[i] !== safe) expect(bullet, `Werkzeug writes ${name} as ${werkzeug[i]}`).toContain(`\`${werkzeug[i]}\``);
    });
  });

  it('middleware-proxy-fix.md, coming from Werkzeug: what ProxyFix keeps of the originals, and where its x_prefix differs (socket)', async () => {
    const said = /- \*\*Werkzeug\*\* `ProxyFix\(.*?\)` is (.*?) - \*\*Express\*\*/.exec(page('middleware-proxy-fix.md'));
    expect(said, 'middleware-proxy-fix.md compares proxyFix with Werkzeug\'s ProxyFix').not.toBeNull();
    const werkzeug = JSON.parse(
      python(
        "import json\nfrom werkzeug.middleware.proxy_fix import ProxyFix\nfrom werkzeug.test import EnvironBuilder\nseen = {}\n" +
          "def app(environ, start):\n    seen['keys'] = sorted(k for k in environ if k.startswith('werkzeug.proxy_fix'))\n    seen['SCRIPT_NAME'] = environ['SCRIPT_NAME']\n    return [b'']\n" +
          "env = EnvironBuilder(path='/x', headers={'X-Forwarded-Prefix': '/shop/'}).get_environ()\nenv['SCRIPT_NAME'] = '/app'\n" +
          "ProxyFix(app, x_prefix=1)(env, lambda status, headers: None)\nprint(json.dumps(seen))",
      ),
    ) as { keys: string[]; SCRIPT_NAME: string };
    // One dict under one key, as tsgi's one object: no `orig_remote_addr`-style keys.
    expect(werkzeug.keys).toEqual(['werkzeug.proxy_fix.orig']);
    expect(said![1], 'the page must not contrast one object with Werkzeug\'s separate keys').not.toMatch(/-style keys/);
    // Werkzeug replaces SCRIPT_NAME with the header as sent; proxyFix prepends it, decoded, without its trailing slash.
    const inner = Request.application((req) => new Response(`${req.scriptName} ${proxyFixOrigKey.get(req)!.SCRIPT_NAME}`));
    const server = await start(mount({ '/app': proxyFix(inner, { xPrefix: 1 }) }));
    const ours = (await request(`${server.url.replace(/\/$/, '')}/app/x`, { headers: { 'x-forwarded-prefix': '/shop/' } })).body.toString();
    expect(ours).toBe('/shop/app /app');
    expect(werkzeug.SCRIPT_NAME).toBe('/shop/');
    expect(said![1], 'the page names the prefix among the differences').toMatch(/`X-Forwarded-Prefix` prepended/);
  });

  it('exceptions.md, redirects: the Location quoting the page shows, and where Werkzeug\'s iri_to_uri writes another', () => {
    const bullet = /Spaces, control characters, non-ASCII, in the path(.*?)- \*\*405\*\*/.exec(page('exceptions.md'))![1]!;
    const [, given, sent] = /`(\/files\/[^`]+)` is sent as `([^`]+)`/.exec(bullet)!;
    expect(redirect(`http://h${given}`, 302).getResponse(Request.blank('/')).headers.get('location')).toBe(`http://h${sent}`);
    const werkzeug = python(`from werkzeug.urls import iri_to_uri\nprint(iri_to_uri(${JSON.stringify(`http://h${given}`)}))`).slice('http://h'.length);
    if (werkzeug !== sent) expect(bullet, `iri_to_uri writes ${given} as ${werkzeug}`).toMatch(/`iri_to_uri` leaves/);
  });

  it('routing.md, what differs: a Rule without methods, and a build_only one, against a RouteMap', async () => {
    const lines = readFileSync(fileURLToPath(new URL('../docs/routing.md', import.meta.url)), 'utf8').split('\n');
    const row = (start: string) => lines.find((line) => line.startsWith(`| ${start}`));
    const methods = row("`Rule('/hook', endpoint='hook')` without `methods`");
    expect(methods, 'the table has a row on a Rule without methods').toBeDefined();
    const werkzeug = python(
      [
        'from werkzeug.routing import Map, Rule',
        "from werkzeug.routing.exceptions import RequestRedirect",
        "m = Map([Rule('/hook', endpoint='hook'), Rule('/old', redirect_to='/hook'), Rule('/static/<path:filename>', endpoint='static', build_only=True)])",
        "a = m.bind('example.com')",
        "print(a.match('/hook', 'POST')[0])",
        'try:',
        "    a.match('/old', 'POST')",
        'except RequestRedirect as e:',
        '    print(e.code, e.new_url)',
        "print(a.build('static', {'filename': 'css/app.css'}))",
        "print(a.test('/static/css/app.css'))",
      ].join('\n'),
    ).split('\n');
    expect(werkzeug).toEqual(['hook', '308 http://example.com/hook', '/static/css/app.css', 'False']);
    const routes = new RouteMap({ hook: '/hook', old: { path: '/old', redirectTo: '/hook' } });
    const client = new TestClient(routes.app({ hook: () => 'hook' }));
    expect((await client.post('/hook', { status: 405 })).headers.get('Allow')).toBe('GET, HEAD, OPTIONS');
    await client.post('/old', { status: 405 });
    expect(methods).toMatch(/`GET` and `HEAD`/);
    expect(methods).toMatch(/`405`/);
    // build_only: a second map, never served, builds the path Werkzeug builds.
    const buildOnly = row("`Rule('/static/<path:filename>', build_only=True)`");
    expect(buildOnly, 'the table has a row on build_only').toMatch(/a second `RouteMap` whose app is never served/);
    const assets = new RouteMap({ static: '/static/<path:filename>' });
    expect(assets.build('static', { filename: 'css/app.css' })).toBe(werkzeug[2]);
    expect(assets.bind(Request.blank('/x', { baseUrl: 'http://example.com/shop' })).build('static', { filename: 'css/app.css' })).toBe(`/shop${werkzeug[2]}`);
  });
});

describe.skipIf(!hasWerkzeug)('the docs on Werkzeug: OPTIONS *', () => {
  it('routing.md, OPTIONS *: Werkzeug\'s map reads * as /*, which a placeholder matches; a RouteMap answers 404', async () => {
    const said = page('routing.md');
    expect(said).toContain("Werkzeug's `MapAdapter.match` reads `*` as the path `/*`: a map with `/<name>` or `/<path:rest>` matches it with the value `*`");
    expect(said).toContain('a map without such a rule answers `404`');
    const werkzeug = python(
      [
        'from werkzeug.routing import Map, Rule',
        'from werkzeug.exceptions import NotFound',
        "for rules in ([Rule('/', endpoint='home'), Rule('/<name>', endpoint='page')], [Rule('/', endpoint='home'), Rule('/<path:rest>', endpoint='rest')], [Rule('/', endpoint='home')]):",
        '    try:',
        "        print(Map(rules).bind('example.com').match('*', 'GET'))",
        '    except NotFound as e:',
        '        print(e.code)',
      ].join('\n'),
    ).split('\n');
    expect(werkzeug).toEqual(["('page', {'name': '*'})", "('rest', {'rest': '*'})", '404']);
    const routes = new RouteMap({ home: '/', page: '/<name>', rest: '/<path:rest>' });
    const client = new TestClient(routes.app({ home: () => 'home', page: () => 'page', rest: () => 'rest' }));
    expect((await client.options('*', { status: 404 })).headers.get('Allow')).toBeNull();
  });
});

describe.skipIf(!hasFlaskCors)('the docs on Flask-CORS', () => {
  it('middleware-cors.md: what the page says of always_send, against Flask-CORS and cors over a socket, for a request without Origin', async () => {
    const said = /- \*\*Flask-CORS\*\*: `always_send=True` (.*?)\. /.exec(page('middleware-cors.md'));
    expect(said, 'middleware-cors.md compares cors with Flask-CORS\'s always_send').not.toBeNull();
    const flask = JSON.parse(
      python(
        "import json\nfrom flask import Flask\nfrom flask_cors import CORS\nout = {}\nfor name, origins in (('any', '*'), ('listed', ['https://app.example.com'])):\n" +
          "    app = Flask(name)\n    CORS(app, origins=origins)\n    app.add_url_rule('/', 'i', lambda: 'x')\n" +
          "    out[name] = app.test_client().get('/').headers.get('Access-Control-Allow-Origin')\nprint(json.dumps(out))",
      ),
    ) as { any: string | null; listed: string | null };
    const allowOrigin = async (origin?: string | string[]) => {
      const server = await start(cors(Request.application(() => new Response('x')), origin === undefined ? {} : { origin }));
      return (await request(server.url)).headers['access-control-allow-origin'] ?? null;
    };
    // Both send `*` to a request without Origin under any origin; for listed origins, Flask-CORS
    // sends its listed one, cors none (Vary: Origin alone).
    expect([flask.any, await allowOrigin()]).toEqual(['*', '*']);
    expect([flask.listed, await allowOrigin(['https://app.example.com'])]).toEqual(['https://app.example.com', null]);
    expect(said![1], 'the page must not say cors does what always_send does whatever the origins').not.toMatch(/is what `cors` does$/);
  });

  it("testing.md, redirects: what Werkzeug's client does with a redirect to another host, a PUT across a 302, and an app's exception", async () => {
    const text = page('testing.md');
    expect(text).toContain("Werkzeug's client refuses it with `RuntimeError: Following external redirects is not supported`");
    expect(text).toContain("Werkzeug 3.1's client turns a PUT or DELETE into a GET on a 301 or 302");
    const werkzeug = JSON.parse(
      python(
        [
          'import json, werkzeug, importlib.metadata as m',
          'from werkzeug.test import Client',
          'from werkzeug.wrappers import Request, Response',
          'from werkzeug.utils import redirect',
          '@Request.application',
          'def app(req):',
          "    if req.path == '/ext': return redirect('http://other.example/x')",
          "    if req.path == '/put': return redirect('/echo', code=302)",
          "    if req.path == '/boom': raise ZeroDivisionError()",
          '    return Response(req.method)',
          'c = Client(app)',
          'out = {"version": m.version("werkzeug")}',
          'try: c.get("/ext", follow_redirects=True)',
          'except RuntimeError as e: out["external"] = str(e)',
          'out["put"] = c.put("/put", data="raw", follow_redirects=True).text',
          'try: c.get("/boom")',
          'except ZeroDivisionError: out["raised"] = True',
          'print(json.dumps(out))',
        ].join('\n'),
      ),
    ) as { version: string; external?: string; put: string; raised?: boolean };
    expect(werkzeug.external).toBe('Following external redirects is not supported.');
    expect(werkzeug.raised).toBe(true);
    // 3.2 follows Fetch (a PUT stays a PUT), as the page says.
    expect(werkzeug.put).toBe(/^3\.1\./.test(werkzeug.version) ? 'GET' : 'PUT');
    // tsgi keeps the PUT, and follows the other host into the app.
    const app = Request.application((req) => (req.pathInfo === '/put' ? redirect('/echo', 302) : req.pathInfo === '/ext' ? redirect('http://other.example/x', 302) : new Response(`${req.method} ${req.host}`)));
    const client = new TestClient(app);
    expect((await client.put('/put', { body: 'raw', followRedirects: 1 })).textBody).toBe('PUT localhost');
    expect((await client.get('/ext', { followRedirects: 1 })).textBody).toBe('GET other.example');
  });
});
