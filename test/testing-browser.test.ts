/**
 * tsgi/testing's TestClient plays a browser's navigations (a form submitted, a link clicked, a
 * call with `from`, and their redirects): Origin, Sec-Fetch-*, and SameSite applied by the jar;
 * a plain call stays header-free, as a client that is no browser. Against the real
 * crossOriginProtection and CookieSessions.
 */
import { describe, expect, it } from 'vitest';
import { type App, HTTPSeeOther, Request, Response } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { CookieSessions, crossOriginProtection, sessionOf } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const FIELDS = ['origin', 'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-user', 'sec-fetch-dest', 'cookie'];

/** The browser fields and cookies a request came with, as JSON. */
function seenOf(req: Request): Record<string, string | null> {
  return Object.fromEntries(FIELDS.map((name) => [name, req.headers.get(name)]));
}

/**
 * A site: `/form` is a page whose form posts to `action` (GET with `?method=get`), `/link` a
 * page linking to `href`; anything else answers the fields it got. `/redirect?to=…&status=…`
 * redirects.
 */
const site = Request.application((req) => {
  const to = req.query.get('to') ?? '/';
  if (req.pathInfo === '/form') {
    const method = req.query.get('method') ?? 'post';
    return new Response(`<form method="${method}" action="${escapeHtml(to)}"><input name="q" value="1"><button>Go</button></form>`, { contentType: 'text/html' });
  }
  if (req.pathInfo === '/link') return new Response(`<a href="${escapeHtml(to)}">next</a>`, { contentType: 'text/html' });
  if (req.pathInfo === '/redirect') {
    return new Response(null, { status: Number(req.query.get('status') ?? '303'), headers: { location: to } });
  }
  return Response.json(seenOf(req));
});

describe('a form submission sends what a browser sends', () => {
  it('POST: Origin and the Sec-Fetch-* fields of a same-origin navigation', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example' });
    const page = await client.get('/form?to=/echo');
    const res = await page.form().submit();
    expect(await res.json()).toEqual({
      origin: 'https://app.example',
      'sec-fetch-site': 'same-origin',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-user': '?1',
      'sec-fetch-dest': 'document',
      cookie: null,
    });
  });

  it('GET form and a clicked link: no Origin (a GET navigation has none), the Sec-Fetch-* fields', async () => {
    const client = new TestClient(site);
    const submitted = await (await client.get('/form?method=get&to=/echo')).form().submit();
    expect(await submitted.json()).toMatchObject({ origin: null, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' });
    const clicked = await (await client.get('/link?to=/echo')).click('next');
    expect(await clicked.json()).toMatchObject({ origin: null, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' });
  });

  it('sends the Sec-Fetch-* fields to https, localhost and loopback URLs only, as browsers do; Origin everywhere', async () => {
    const plainHttp = await (await new TestClient(site, { baseUrl: 'http://app.example' }).get('/form?to=/echo')).form().submit();
    expect(await plainHttp.json()).toMatchObject({ origin: 'http://app.example', 'sec-fetch-site': null, 'sec-fetch-mode': null });
    const local = await (await new TestClient(site).get('/form?to=/echo')).form().submit();
    expect(await local.json()).toMatchObject({ origin: 'http://localhost', 'sec-fetch-site': 'same-origin' });
    const loopback = await (await new TestClient(site, { baseUrl: 'http://127.0.0.1:8000' }).get('/form?to=/echo')).form().submit();
    expect(await loopback.json()).toMatchObject({ origin: 'http://127.0.0.1:8000', 'sec-fetch-site': 'same-origin' });
  });

  it('leaves a plain call header-free: it is not a browser', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example' });
    expect(await (await client.post('/echo', { form: { q: '1' } })).json()).toEqual(Object.fromEntries(FIELDS.map((name) => [name, null])));
  });

  it("lets the call's headers replace what the navigation adds, and the navigation the client's", async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example', headers: { origin: 'https://client.example', 'sec-fetch-site': 'none' } });
    const page = await client.get('/form?to=/echo');
    expect(await (await page.form().submit()).json()).toMatchObject({ origin: 'https://app.example', 'sec-fetch-site': 'same-origin' });
    expect(await (await page.form().submit({ headers: { 'sec-fetch-site': 'cross-site' } })).json()).toMatchObject({ origin: 'https://app.example', 'sec-fetch-site': 'cross-site' });
  });

  it('takes a page of the app named by its path, resolved as the call\'s own URL is', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example/shop' });
    const res = await client.post('/echo', { form: {}, from: '/login' });
    expect(await res.json()).toMatchObject({ origin: 'https://app.example', 'sec-fetch-site': 'same-origin' });
    const plain = new TestClient(site, { baseUrl: 'http://app.example' });
    // Resolved against the base URL's http origin: the same origin, where an https page's would be null.
    expect(await (await plain.post('/echo', { form: {}, from: '/page' })).json()).toMatchObject({ origin: 'http://app.example' });
  });

  it('tells same-site from cross-site by the registrable domain and the scheme', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example.com' });
    const sibling = await client.post('/echo', { form: {}, from: 'https://www.example.com/page' });
    expect(await sibling.json()).toMatchObject({ origin: 'https://www.example.com', 'sec-fetch-site': 'same-site' });
    const otherScheme = await client.post('/echo', { form: {}, from: 'http://app.example.com/page' });
    expect(await otherScheme.json()).toMatchObject({ origin: 'http://app.example.com', 'sec-fetch-site': 'cross-site' });
    const github = new TestClient(site, { baseUrl: 'https://a.github.io' });
    expect(await (await github.post('/echo', { form: {}, from: 'https://b.github.io/' })).json()).toMatchObject({ 'sec-fetch-site': 'cross-site' });
  });

  it('sends Origin: null from an https page to an http URL (the default referrer policy), and counts ports out of the site', async () => {
    const plain = new TestClient(site, { baseUrl: 'http://app.example' });
    expect(await (await plain.post('/echo', { form: {}, from: 'https://app.example/page' })).json()).toMatchObject({ origin: 'null' });
    const local = new TestClient(site, { baseUrl: 'http://localhost:3000' });
    expect(await (await local.post('/echo', { form: {}, from: 'http://localhost:5173/' })).json()).toMatchObject({ origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' });
  });

  it('judges the site by the host the app sees: a Host field counts, the client\'s or the call\'s', async () => {
    // The app is tested at app.example through a Host field: a page there is same-origin.
    const client = new TestClient(site, { baseUrl: 'https://localhost', headers: { host: 'app.example' } });
    const fromPage = await client.post('/echo', { form: {}, from: 'https://app.example/page' });
    expect(await fromPage.json()).toMatchObject({ origin: 'https://app.example', 'sec-fetch-site': 'same-origin' });
    const perCall = await new TestClient(site, { baseUrl: 'https://localhost' }).post('/echo', { form: {}, from: 'https://app.example/page', headers: { host: 'app.example' } });
    expect(await perCall.json()).toMatchObject({ 'sec-fetch-site': 'same-origin' });
    // Its redirects too: a 303 there stays same-origin.
    const redirected = await client.post('/redirect?to=/echo', { form: {}, from: 'https://app.example/page', followRedirects: 1 });
    expect(redirected.url).toBe('https://app.example/echo');
    expect(await redirected.json()).toMatchObject({ 'sec-fetch-site': 'same-origin' });
    // And a 307 from there to another origin keeps the page's Origin (the URL it left was the page's origin).
    const hop = `/redirect?status=307&to=${encodeURIComponent('https://other.example/echo')}`;
    const away = await client.post(hop, { form: {}, from: 'https://app.example/page', followRedirects: 1 });
    expect(await away.json()).toMatchObject({ origin: 'https://app.example', 'sec-fetch-site': 'cross-site' });
  });
});

describe('redirects of a navigation', () => {
  it('stay navigations: a 303 after a POST is a GET without Origin', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example' });
    const page = await client.get('/form?to=/redirect?to=/echo');
    const res = await page.form().submit({ followRedirects: 1 });
    expect(await res.json()).toMatchObject({ origin: null, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' });
  });

  it('a 307 that went to another origin and on sends Origin: null, and the chain stays cross-site', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example' });
    // app → (307) other.example → (307) app: the chain went through another site.
    const hop2 = '/redirect?status=307&to=https://app.example/echo';
    const page = await client.get(`/form?to=${encodeURIComponent(`/redirect?status=307&to=${encodeURIComponent(`https://other.example${hop2}`)}`)}`);
    const res = await page.form().submit({ followRedirects: 2 });
    expect(res.url).toBe('https://app.example/echo');
    expect(await res.json()).toMatchObject({ origin: 'null', 'sec-fetch-site': 'cross-site' });
    // res.follow() by hand keeps the chain too.
    const first = await page.form().submit();
    const second = await first.follow();
    expect(second.statusCode).toBe(307);
    expect(await (await second.follow()).json()).toMatchObject({ origin: 'null', 'sec-fetch-site': 'cross-site' });
  });
});

describe('the jar applies SameSite to a navigation', () => {
  /** Sets one cookie of each SameSite (Secure), at /set; answers the cookies it got elsewhere. */
  const cookies = Request.application((req) => {
    if (req.pathInfo === '/set') {
      const res = new Response('set');
      res.setCookie('strict', '1', { sameSite: 'strict', secure: true });
      res.setCookie('lax', '1', { sameSite: 'lax', secure: true });
      res.setCookie('none', '1', { sameSite: 'none', secure: true });
      res.setCookie('unset', '1', { secure: true });
      return res;
    }
    return new Response(req.headers.get('cookie') ?? '');
  });
  const idp = 'https://idp.example/authorize';

  it('same-site: every cookie; cross-site GET: Lax and None; cross-site POST: None only (unset counts as None)', async () => {
    const client = new TestClient(cookies, { baseUrl: 'https://app.example' });
    await client.get('/set');
    expect((await client.get('/', { from: 'https://app.example/page' })).textBody).toBe('strict=1; lax=1; none=1; unset=1');
    expect((await client.get('/', { from: idp })).textBody).toBe('lax=1; none=1; unset=1');
    expect((await client.post('/', { from: idp })).textBody).toBe('none=1; unset=1');
    // A plain call is no browser's: every cookie, as before.
    expect((await client.post('/')).textBody).toBe('strict=1; lax=1; none=1; unset=1');
  });

  it('leaves Strict cookies out after a redirect chain that went through another site, Lax ones in', async () => {
    // app.example → idp.example → app.example: the whole chain counts, as in a browser.
    const chain = Request.application((req) => new Response(null, { status: 302, headers: { location: req.query.get('to')! } }));
    const app: App = (environ, startResponse) => (environ.PATH_INFO === '/hop' ? chain : cookies)(environ, startResponse);
    const browser = new TestClient(app, { baseUrl: 'https://app.example' });
    await browser.get('/set');
    const back = `https://idp.example/hop?to=${encodeURIComponent('https://app.example/')}`;
    const res = await browser.get(`/hop?to=${encodeURIComponent(back)}`, { from: 'https://app.example/page', followRedirects: 2 });
    expect(res.textBody).toBe('lax=1; none=1; unset=1');
    // A chain that stays on the site sends them all.
    const home = await browser.get(`/hop?to=${encodeURIComponent('https://app.example/')}`, { from: 'https://app.example/page', followRedirects: 1 });
    expect(home.textBody).toBe('strict=1; lax=1; none=1; unset=1');
  });

  it('refuses a SameSite=None cookie without Secure, as browsers do', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Set-Cookie', 'a=1; SameSite=None'], ['Set-Cookie', 'b=1; SameSite=None; Secure'], ['Content-Type', 'text/plain']]);
      return [];
    };
    const client = new TestClient(app, { baseUrl: 'https://app.example', lint: false });
    await client.get('/');
    expect(client.cookies.all().map((c) => c.name)).toEqual(['b']);
  });

  it('refuses a Partitioned cookie without Secure and keeps Secure ones at http://127.0.0.1, as Chromium does', async () => {
    const app: App = (_environ, startResponse) => {
      const lines = ['p=1; Partitioned', 'q=1; partitioned; Path=/', 'r=1; Secure; Partitioned; SameSite=None', 's=1; Secure'];
      startResponse('200 OK', [...lines.map((line): [string, string] => ['Set-Cookie', line]), ['Content-Type', 'text/plain']]);
      return [];
    };
    const client = new TestClient(app, { baseUrl: 'http://127.0.0.1:8000', lint: false });
    await client.get('/');
    expect(client.cookies.all().map((c) => c.name)).toEqual(['r', 's']);
  });
});

describe('a cross-site form_post login, as a browser meets it', () => {
  const sessions = new CookieSessions({ secret: 'a test secret of at least 32 bytes!!', secure: true });
  /**
   * The app at app.example: /login keeps a pending login in the session and sends the browser to
   * the provider; /callback needs it. The provider's page (idp.example) posts back to /callback.
   */
  const inner = Request.application(async (req) => {
    const session = sessionOf(req);
    if (req.host === 'idp.example') {
      return new Response('<form method="post" action="https://app.example/callback"><input type="hidden" name="code" value="c1"><button>Continue</button></form>', { contentType: 'text/html' });
    }
    if (req.pathInfo === '/login') {
      session.set('pending', 'state-1');
      return new HTTPSeeOther('https://idp.example/authorize');
    }
    if (req.pathInfo === '/callback') return new Response(session.get<string>('pending') ?? 'no pending login', { status: session.get('pending') ? 200 : 400 });
    return new Response('home');
  });

  it('is refused by crossOriginProtection (403), and without it finds no Lax session cookie (400)', async () => {
    const protectedApp = crossOriginProtection(sessions.middleware(inner));
    const client = new TestClient(protectedApp, { baseUrl: 'https://app.example' });
    const provider = await client.get('/login', { followRedirects: 1 });
    expect(provider.url).toBe('https://idp.example/authorize');
    const refused = await provider.form().submit({ status: 403 });
    expect(refused.textBody).toContain('Sec-Fetch-Site is cross-site');

    const exempted = crossOriginProtection(sessions.middleware(inner), { exempt: (environ) => environ.PATH_INFO === '/callback' });
    const browser = new TestClient(exempted, { baseUrl: 'https://app.example' });
    const page = await browser.get('/login', { followRedirects: 1 });
    const lost = await page.form().submit({ status: 400 });
    expect(lost.textBody).toBe('no pending login');
    // The response_mode=query flow, a cross-site top-level GET back, carries the Lax cookie.
    const back = await browser.get('/callback', { from: page.url });
    expect(back.textBody).toBe('state-1');
  });
});
