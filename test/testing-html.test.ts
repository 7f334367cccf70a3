/**
 * tsgi/testing on pages and cookies: forms filled in and submitted as the HTML standard says,
 * links followed, elements selected, and the RFC 6265 cookie jar.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';

/** What the echo answered. */
type Sent = Record<string, string>;

const html = (body: string) => new Response(`<!doctype html><title>t</title>${body}`, { contentType: 'text/html' });

const PAGE = `
<form id="profile" method="post" action="/save">
  <input name="user" value="ada">
  <input type="hidden" name="token" value="t0k">
  <input name="locked" value="x" readonly>
  <input name="off" value="y" disabled>
  <input type="checkbox" name="tags" value="red" checked>
  <input type="checkbox" name="tags" value="blue">
  <input type="checkbox" name="agree">
  <input type="radio" name="size" value="s">
  <input type="radio" name="size" value="m" checked>
  <select name="lang"><option value="en">English<option value="fr">French<option disabled value="xx">None</select>
  <select name="pets" multiple><option selected>cat<option>dog<option selected>eel</select>
  <textarea name="bio">
line one
line two</textarea>
  <fieldset disabled><input name="inside" value="z"></fieldset>
  <button name="action" value="save">Save</button>
  <button name="action" value="delete" formaction="/delete">Delete</button>
  <input type="reset" name="reset">
</form>
<input form="profile" name="outside" value="o">
<form id="search" action="/find?old=1"><input name="q"><input type="submit" value="Go"></form>
<form id="upload" method="post" enctype="multipart/form-data" action="/up"><input type="file" name="doc"><input name="note"></form>
<p class="lead">Hello, <b>world</b></p>
<a href="/items/1">First item</a> <a href="/items/2">Second item</a> <a href="https://localhost/secure">Secure</a>
`;

/** The page at /, and an echo of what each form sends. */
const app = Request.application(async (req) => {
  if (req.pathInfo === '/') return html(PAGE);
  const body = await req.text();
  return Response.json({ method: req.method, path: req.pathInfo, query: req.queryString, type: req.contentType, body });
});

describe('forms', () => {
  it('lists the forms and their fields; reads values as they would be sent', async () => {
    const page = await new TestClient(app).get('/');
    expect(page.forms.map((f) => f.id)).toEqual(['profile', 'search', 'upload']);
    const form = page.form('#profile');
    expect(form.method).toBe('POST');
    expect(form.action).toBe('http://localhost/save');
    expect(form.fields).toEqual(['user', 'token', 'locked', 'off', 'tags', 'agree', 'size', 'lang', 'pets', 'bio', 'inside', 'action', 'reset', 'outside']);
    expect(form.get('user')).toBe('ada');
    expect(form.get('size')).toBe('m');
    expect(form.get('lang')).toBe('en');
    expect(form.getAll('pets')).toEqual(['cat', 'eel']);
    expect(form.getAll('tags')).toEqual(['red']);
    expect(form.get('agree')).toBeNull();
    expect(form.get('bio')).toBe('line one\nline two');
  });

  it('submits what the HTML standard says: the button used, no disabled or unchecked controls, CRLF line breaks', async () => {
    const page = await new TestClient(app).get('/');
    const form = page.form('#profile');
    form.set('user', 'grace').set('tags', 'blue').set('tags', false).set('agree', true).set('size', 's').set('lang', 'French').set('pets', ['dog']);
    const res = await form.submit();
    const sent = (await res.json()) as Sent;
    expect(sent).toMatchObject({ method: 'POST', path: '/save', type: 'application/x-www-form-urlencoded' });
    expect([...new URLSearchParams(sent.body)]).toEqual([
      ['user', 'grace'], ['token', 't0k'], ['locked', 'x'], ['tags', 'blue'], ['agree', 'on'], ['size', 's'], ['lang', 'fr'],
      ['pets', 'dog'], ['bio', 'line one\r\nline two'], ['action', 'save'], ['outside', 'o'],
    ]);
    const deleted = (await (await page.form('#profile').submit('Delete')).json()) as Sent;
    expect(deleted.path).toBe('/delete');
    expect(new URLSearchParams(deleted.body).get('action')).toBe('delete');
  });

  it('checks exactly the boxes of a list of values, and refuses a value no box of the group has', async () => {
    const form = (await new TestClient(app).get('/')).form('#profile');
    // red starts checked: a list is the whole choice, as for a multiple select
    expect(form.set('tags', ['blue']).getAll('tags')).toEqual(['blue']);
    expect(form.set('tags', ['red', 'blue']).getAll('tags')).toEqual(['red', 'blue']);
    expect(form.set('tags', []).getAll('tags')).toEqual([]);
    expect(() => form.set('tags', ['green'])).toThrow(/no checkbox "tags" with value "green" \(values: red, blue\)/);
    expect(() => form.set('tags', 'green')).toThrow(/no checkbox "tags" with value "green"/);
    expect(form.getAll('tags')).toEqual([]);
    // a lone checkbox still takes true or false
    expect(form.set('agree', true).getAll('agree')).toEqual(['on']);
  });

  it('sets the checkbox or select a hidden field of the same name backs (Rails’ unchecked value), not the hidden field', async () => {
    // What Rails' check_box and collection_select(multiple) write: the hidden field goes when nothing is chosen.
    const page = `<form method="post" action="/save"><input type="hidden" name="remember" value="0"><input type="checkbox" name="remember" value="1">
      <input type="hidden" name="tags[]" value=""><select name="tags[]" multiple><option>a</option><option>b</option></select></form>`;
    const app = Request.application(() => html(page));
    const form = (await new TestClient(app).get('/')).form();
    expect(form.values()).toEqual([['remember', '0'], ['tags[]', '']]);
    expect([form.get('remember'), form.get('remember', 0)]).toEqual([null, '0']);
    expect(form.set('remember', true).set('tags[]', ['b']).values()).toEqual([['remember', '0'], ['remember', '1'], ['tags[]', ''], ['tags[]', 'b']]);
    expect(form.set('remember', false).set('remember', '1').getAll('remember')).toEqual(['0', '1']);
    expect([form.get('remember'), form.get('tags[]')]).toEqual(['1', 'b']);
    // The hidden field itself is still the page's: named by its index, it is refused.
    expect(() => form.set('remember', true, { index: 0 })).toThrow(/hidden: a user cannot change it/);
    expect(form.set('remember', 'x', { index: 0, force: true }).getAll('remember')).toEqual(['x', '1']);
  });

  it('refuses what a user could not do: hidden, read-only, disabled fields, options not offered', async () => {
    const form = (await new TestClient(app).get('/')).form('#profile');
    expect(() => form.set('token', 'x')).toThrow(/hidden: a user cannot change it/);
    expect(() => form.set('locked', 'x')).toThrow(/read-only/);
    expect(() => form.set('off', 'x')).toThrow(/disabled/);
    expect(() => form.set('lang', 'de')).toThrow(/no option "de" \(options: en, fr, xx\)/);
    expect(() => form.set('lang', 'xx')).toThrow(TestClientError);
    expect(() => form.set('size', 'xl')).toThrow(/no radio "size" with value "xl"/);
    expect(() => form.set('nothing', 'x')).toThrow(/no field "nothing"/);
    expect(() => form.submit('Nope')).toThrow(/no submit button "Nope" \(buttons: action, action\)/);
    expect(form.set('token', 'forced', { force: true }).get('token')).toBe('forced');
  });

  it('sends a GET form in the query of its action, replacing the action’s own', async () => {
    const page = await new TestClient(app).get('/');
    const sent = (await (await page.form('#search').set('q', 'a b').submit()).json()) as Sent;
    expect(sent).toMatchObject({ method: 'GET', path: '/find', query: 'q=a+b' });
  });

  it('uploads files as multipart/form-data', async () => {
    const page = await new TestClient(app).get('/');
    const form = page.form(2).upload('doc', { filename: 'notes.txt', content: 'hello' }).set('note', 'n');
    const sent = (await (await form.submit()).json()) as Sent;
    expect(sent.type).toBe('multipart/form-data');
    expect(sent.body).toContain('name="note"\r\n\r\nn\r\n');
    expect(sent.body).toContain('name="doc"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n');
  });

  it('finds a form by its text or its button label', async () => {
    const page = await new TestClient(app).get('/');
    expect(page.form({ text: 'Go' }).id).toBe('search');
    expect(page.form({ text: /Save\b/ }).id).toBe('profile');
    expect(page.form(1).buttonLabels).toEqual(['Go']);
  });

  it('names the choices when the form asked for is not there', async () => {
    const page = await new TestClient(app).get('/');
    expect(() => page.form()).toThrow(/3 of the page's 3 form\(s\) match the page: name one/);
    expect(() => page.form('#nope')).toThrow(/0 of the page's 3 form\(s\) match "#nope"/);
    expect(() => page.form(7)).toThrow(/0 of the page's 3 form\(s\) match 7/);
  });
});

describe('links and elements', () => {
  it('clicks a link by its text, href or index, and refuses an ambiguous one', async () => {
    const page = await new TestClient(app).get('/');
    expect((await page.click('Second')).url).toBe('http://localhost/items/2');
    expect((await page.click(undefined, { href: '/items/1' })).url).toBe('http://localhost/items/1');
    expect((await page.click(/item$/, { index: 1 })).url).toBe('http://localhost/items/2');
    await expect(async () => page.click('item')).rejects.toThrow(/2 links match .*pass index to choose:\n"First item" → \/items\/1\n"Second item" → \/items\/2/);
    await expect(async () => page.click('Nowhere')).rejects.toThrow(/no link matches/);
  });

  it('selects elements with CSS selectors', async () => {
    const page = await new TestClient(app).get('/');
    expect(page.select('p.lead')).toEqual([{ tagName: 'p', attributes: { class: 'lead' }, text: 'Hello, world' }]);
    expect(page.select('a[href^="/items"]').map((a) => a.text)).toEqual(['First item', 'Second item']);
    expect(() => page.select('p[')).toThrow(SyntaxError);
  });
});

describe('the cookie jar (RFC 6265)', () => {
  const site = Request.application((req) => {
    const res = new Response(JSON.stringify(req.cookies), { contentType: 'application/json' });
    if (req.pathInfo === '/login') {
      res.setCookie('session', 's1', { httpOnly: true, sameSite: 'lax' });
      res.setCookie('scoped', 'p', { path: '/admin' });
      res.setCookie('other', 'x', { domain: 'example.org' });
      res.setCookie('secure', 'z', { secure: true });
    }
    if (req.pathInfo === '/logout') res.deleteCookie('session');
    if (req.pathInfo === '/short') res.setCookie('brief', 'b', { maxAge: 1 });
    return res;
  });

  it('stores what the app sets and sends it back where RFC 6265 says', async () => {
    // Plain http at a host that is not localhost: the Secure cookie is refused.
    const client = new TestClient(site, { baseUrl: 'http://app.example' });
    await client.get('/login');
    expect(await (await client.get('/')).json()).toEqual({ session: 's1' });
    expect(await (await client.get('/admin/x')).json()).toEqual({ scoped: 'p', session: 's1' });
    expect(client.cookies.all().map((c) => [c.name, c.path, c.hostOnly, c.httpOnly, c.sameSite])).toEqual([
      ['session', '/', true, true, 'lax'],
      ['scoped', '/admin', true, false, null],
    ]);
    await client.get('/logout');
    expect(await (await client.get('/')).json()).toEqual({});
  });

  it('finds a domain cookie by the Domain the app set, a leading dot included, as delete() does', async () => {
    const app = Request.application(() => {
      const res = new Response('ok');
      res.headers.append('set-cookie', 'sid=s1; Domain=.example.com; Path=/');
      return res;
    });
    const client = new TestClient(app, { baseUrl: 'http://www.example.com' });
    await client.get('/');
    expect(client.cookies.get('sid', { domain: '.example.com' })).toBe('s1');
    expect(client.cookies.get('sid', { domain: 'example.com' })).toBe('s1');
    client.cookies.delete('sid', { domain: '.example.com' });
    expect(client.cookies.all()).toEqual([]);
  });

  it('finds and deletes a cookie by its domain as the jar files it: in any case, and at an IPv6 base URL by default', async () => {
    const app = Request.application(() => {
      const res = new Response('ok');
      res.headers.append('set-cookie', 'sid=s1; Path=/');
      return res;
    });
    const v6 = new TestClient(app, { baseUrl: 'http://[::1]:3000' });
    await v6.get('/');
    expect(v6.cookies.all().map(({ name, domain }) => [name, domain])).toEqual([['sid', '::1']]);
    expect(v6.cookies.get('sid', { domain: '[::1]' })).toBe('s1');
    v6.cookies.delete('sid');
    expect(v6.cookies.all()).toEqual([]);
    const named = new TestClient(app, { baseUrl: 'http://www.example.com' });
    await named.get('/');
    expect(named.cookies.get('sid', { domain: 'WWW.Example.com' })).toBe('s1');
    named.cookies.delete('sid', { domain: 'WWW.Example.com' });
    expect(named.cookies.all()).toEqual([]);
  });

  it('enforces the __Host- and __Secure- prefixes in any case, as RFC 6265bis and browsers do', async () => {
    const app = Request.application(() => {
      const res = new Response('ok');
      res.headers.append('set-cookie', '__host-sid=tossed; Secure; Path=/; Domain=example.com');
      res.headers.append('set-cookie', '__HOST-deep=1; Secure; Path=/admin');
      res.headers.append('set-cookie', '__SECURE-plain=1; Path=/');
      res.headers.append('set-cookie', '__Host-ok=1; Secure; Path=/');
      res.headers.append('set-cookie', '__secure-ok=1; Secure; Path=/');
      return res;
    });
    const client = new TestClient(app, { baseUrl: 'https://www.example.com' });
    await client.get('/');
    expect(client.cookies.all().map((c) => c.name)).toEqual(['__Host-ok', '__secure-ok']);
  });

  it('keeps a cookie 400 days at most, as RFC 6265bis §5.6.1–2 and browsers do: a huge Max-Age is no Invalid Date', async () => {
    const app = Request.application(() => {
      const res = new Response('ok');
      res.headers.append('set-cookie', 'remember=1; Max-Age=63072000; Path=/');
      res.headers.append('set-cookie', 'huge=1; Max-Age=99999999999999999999; Path=/');
      res.headers.append('set-cookie', 'far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT; Path=/');
      res.headers.append('set-cookie', 'week=1; Max-Age=604800; Path=/');
      return res;
    });
    const client = new TestClient(app);
    await client.get('/');
    const day = 24 * 60 * 60 * 1000;
    const days = client.cookies.all().map((c) => [c.name, Math.round(((c.expires?.getTime() ?? Number.NaN) - Date.now()) / day)]);
    expect(days).toEqual([['remember', 400], ['huge', 400], ['far', 400], ['week', 7]]);
  });

  it('keeps a nameless cookie (no "=", or one first) and sends its value alone, as RFC 6265bis §5.6 and browsers do', async () => {
    const app = Request.application((req) => {
      const res = new Response(req.headers.get('cookie') ?? '');
      if (req.pathInfo === '/set') {
        res.headers.append('set-cookie', 'legacy; Path=/');
        res.headers.append('set-cookie', '=beta; Path=/app');
        // Ignored: nothing at all, and a value that would read as a prefixed cookie (§5.7).
        res.headers.append('set-cookie', '=; Path=/app/x');
        res.headers.append('set-cookie', '__Host-sid; Path=/app/y');
        res.headers.append('set-cookie', 'named=1; Path=/');
      }
      return res;
    });
    const client = new TestClient(app);
    await client.get('/set');
    expect((await client.get('/app/page')).textBody).toBe('beta; legacy; named=1');
    expect((await client.get('/other')).textBody).toBe('legacy; named=1');
    expect(client.cookies.all().map((c) => [c.name, c.value, c.path])).toEqual([['', 'legacy', '/'], ['', 'beta', '/app'], ['named', '1', '/']]);
  });

  it('leaves a Secure cookie alone: an http answer cannot replace or shadow it (RFC 6265bis §5.7, as browsers)', async () => {
    const app = Request.application((req) => {
      const res = new Response(req.headers.get('cookie') ?? '');
      if (req.pathInfo === '/login') res.headers.append('set-cookie', 'sid=good; Secure; Path=/');
      if (req.pathInfo === '/toss') {
        res.headers.append('set-cookie', 'sid=evil; Path=/');
        res.headers.append('set-cookie', 'sid=shadow; Path=/admin');
        res.headers.append('set-cookie', 'sid=wide; Domain=example.com; Path=/');
        res.headers.append('set-cookie', 'other=fine; Path=/');
      }
      return res;
    });
    const client = new TestClient(app, { baseUrl: 'https://www.example.com' });
    await client.get('/login');
    await client.get('http://www.example.com/toss');
    expect((await client.get('/admin/x')).textBody).toBe('sid=good; other=fine');
    expect(client.cookies.all().map((c) => [c.name, c.value, c.secure])).toEqual([['sid', 'good', true], ['other', 'fine', false]]);
  });

  it('keeps the cookies of a request with a Host header under that host, as Werkzeug and curl do', async () => {
    const byHost = Request.application((req) => {
      const res = new Response(JSON.stringify(req.cookies), { contentType: 'application/json' });
      if (req.pathInfo === '/login') res.setCookie('session', req.host, { domain: req.host });
      if (req.pathInfo === '/pref') res.setCookie('theme', 'dark');
      return res;
    });
    const client = new TestClient(byHost);
    const api = { headers: { host: 'api.example.com' } };
    await client.get('/login', api);
    await client.get('/pref', api);
    expect(await (await client.get('/', api)).json()).toEqual({ session: 'api.example.com', theme: 'dark' });
    expect(client.cookies.all().map((c) => [c.name, c.domain])).toEqual([
      ['session', 'api.example.com'],
      ['theme', 'api.example.com'],
    ]);
    expect(await (await client.get('/')).json()).toEqual({});
    expect(await (await client.get('http://api.example.com/')).json()).toEqual({ session: 'api.example.com', theme: 'dark' });
  });

  it('puts a page fetched with a Host header at that host: res.url, its forms and links', async () => {
    const site = Request.application(async (req) => {
      if (req.method === 'POST') return `${req.host} ${req.cookies.visit ?? 'no cookie'} ${(await req.form()).get('q')}`;
      const res = html('<form method="post" action="/send"><input name="q" value="v"></form><a href="/next">next</a>');
      res.setCookie('visit', '1');
      return req.pathInfo === '/next' ? `${req.host} ${req.cookies.visit ?? 'no cookie'}` : res;
    });
    const client = new TestClient(site);
    const page = await client.get('/form', { headers: { host: 'api.example.com' } });
    expect(page.url).toBe('http://api.example.com/form');
    expect((await page.form().submit()).textBody).toBe('api.example.com 1 v');
    expect((await page.click('next')).textBody).toBe('api.example.com 1');
  });

  it('keeps Secure cookies to https (plain http at localhost aside), and drops expired ones', async () => {
    const client = new TestClient(site, { baseUrl: 'https://app.example' });
    await client.get('/login');
    await client.get('/short');
    expect(await (await client.get('/')).json()).toEqual({ session: 's1', secure: 'z', brief: 'b' });
    expect(await (await client.get('http://app.example/')).json()).toEqual({ session: 's1', brief: 'b' });
    const brief = client.cookies.all().find((c) => c.name === 'brief')!;
    expect(brief.expires!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('keeps a Domain that names the host itself host-only, though the host is a public suffix (a single label)', async () => {
    const app = Request.application((req) => {
      const res = new Response(JSON.stringify(req.cookies), { contentType: 'application/json' });
      if (req.pathInfo === '/login') res.setCookie('session', 's1', { domain: req.hostname });
      return res;
    });
    const client = new TestClient(app, { baseUrl: 'http://testserver' });
    await client.get('/login');
    expect(await (await client.get('/')).json()).toEqual({ session: 's1' });
    expect(client.cookies.all().map((c) => [c.name, c.domain, c.hostOnly])).toEqual([['session', 'testserver', true]]);
    client.cookies.set('theme', 'dark', { domain: 'testserver' });
    expect(client.cookies.get('theme')).toBe('dark');
    // Another host's suffix is still refused.
    const other = new TestClient(app, { baseUrl: 'http://shop.example.co.uk' });
    other.cookies.store('http://shop.example.co.uk/', ['a=1; Domain=co.uk', 'b=2; Domain=example.co.uk']);
    expect(other.cookies.all().map((c) => c.name)).toEqual(['b']);
  });

  it('sends back a Domain naming the host itself at localhost, an IP or [::1], host-only as browsers keep it', async () => {
    // RFC 6265 §5.1.3: a host domain-matches a string identical to it; a Domain that is a
    // public suffix (localhost, a single label) or an IP address is then host-only (§5.3 step 5;
    // RFC 6265bis §5.7, Chrome's GetCookieDomainWithString).
    const app = Request.application((req) => {
      const domain = req.query.get('domain');
      return new Response(JSON.stringify(req.cookies), { contentType: 'application/json', headers: domain === null ? [] : [['Set-Cookie', `session=s1; Domain=${domain}; Path=/`]] });
    });
    for (const [baseUrl, domain, kept] of [
      ['http://localhost', 'localhost', 'localhost'],
      ['http://localhost:8000', 'LocalHost', 'localhost'],
      ['http://127.0.0.1:8000', '127.0.0.1', '127.0.0.1'],
      ['http://[::1]:3000', '[::1]', '::1'],
    ] as const) {
      const client = new TestClient(app, { baseUrl });
      await client.get(`/login?domain=${encodeURIComponent(domain)}`);
      expect([baseUrl, await (await client.get('/')).json()]).toEqual([baseUrl, { session: 's1' }]);
      expect([baseUrl, client.cookies.all().map((c) => [c.domain, c.hostOnly])]).toEqual([baseUrl, [[kept, true]]]);
    }
    // One it would never send is not kept, as browsers keep none: localhost is a public suffix
    // of app.localhost, and ::1 names no host [::1] (lint says browsers drop it).
    for (const [baseUrl, domain] of [['http://app.localhost', 'localhost'], ['http://[::1]', '::1'], ['http://127.0.0.1', '127.0.0.2']] as const) {
      const client = new TestClient(app, { baseUrl, lint: false });
      await client.get(`/login?domain=${encodeURIComponent(domain)}`);
      expect([baseUrl, client.cookies.all()]).toEqual([baseUrl, []]);
    }
    // A Domain of a registrable name stays a domain cookie, sent to its subdomains.
    const shop = new TestClient(app, { baseUrl: 'http://example.com' });
    await shop.get('/login?domain=example.com');
    expect(await (await shop.get('http://www.example.com/')).json()).toEqual({ session: 's1' });
  });

  it('is set, read, deleted and cleared by the test, or turned off', async () => {
    const client = new TestClient(site);
    client.cookies.set('theme', 'dark').set('a', '1', { path: '/admin' });
    expect(client.cookies.get('theme')).toBe('dark');
    expect(await (await client.get('/admin')).json()).toEqual({ a: '1', theme: 'dark' });
    client.cookies.delete('theme');
    expect(client.cookies.get('theme')).toBeUndefined();
    client.cookies.clear();
    expect(client.cookies.all()).toEqual([]);
    const off = new TestClient(site, { cookies: false });
    await off.get('/login');
    expect(await (await off.get('/')).json()).toEqual({});
  });
});
