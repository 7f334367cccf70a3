/**
 * examples/notes.ts: a server-rendered CRUD app driven as a browser would, through its forms
 * (TestClient) and over a real socket: POST-redirect-GET with 303 and a flash shown once, 422
 * with the values kept, checkboxes, an optional attachment, PUT and DELETE through
 * `methodOverride` (`?_method=PUT` on the multipart edit form, a hidden `_method` field on
 * the delete form; only from a POST, only those methods, the cross-origin check still made),
 * the 413 page keeping the session, no-store pages, HEAD, 404, 405, trailing-slash redirects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { app, createNotes, limits, sessions } from '../examples/notes.ts';
import { compose } from 'tsgi';
import { crossOriginProtection, methodOverride } from 'tsgi/middleware';

const fresh = () => compose(crossOriginProtection, methodOverride, sessions.middleware)(createNotes());

async function loggedIn(target = fresh()) {
  const client = new TestClient(target);
  const form = (await client.get('/login')).form('#login').set('user', 'ada');
  const home = await form.submit({ followRedirects: 1 });
  expect(home.select('.flash')[0]?.text).toBe('Welcome, ada.');
  return client;
}

describe('examples/notes.ts', () => {
  it('creates a note: 303 to its page, the flash shown once, tags from the checkboxes, no attachment for an empty file input', async () => {
    const client = await loggedIn();
    const form = (await client.get('/notes/new')).form('#note');
    const created = await form.set('title', 'Café <b>menu</b>').set('body', 'Crème brûlée').set('tags', ['work', 'urgent']).submit();
    expect(created.statusCode).toBe(303);
    expect(created.location).toBe('http://localhost/notes/1');
    const shown = await created.follow();
    expect(shown.select('.flash').map((p) => p.text)).toEqual(['Note “Café <b>menu</b>” created.']);
    expect(shown.textBody).toContain('<h1>Café &lt;b&gt;menu&lt;/b&gt;</h1>');
    expect(shown.select('a[href^="/notes/?tag="]').map((a) => a.text)).toEqual(['#work', '#urgent']);
    expect(shown.textBody).not.toContain('Attachment:');
    expect(shown.cacheControl.noStore).toBe(true);
    const again = await client.get('/notes/1');
    expect(again.select('.flash')).toEqual([]);
  });

  it('re-renders an invalid form with what was typed and 422', async () => {
    const client = await loggedIn();
    const form = (await client.get('/notes/new')).form('#note');
    const res = await form.set('title', '  ').set('body', 'kept <body>').set('tags', 'home').submit({ status: 422 });
    expect(res.select('.error')[0]?.text).toBe('The title is required.');
    const again = res.form('#note');
    expect([again.get('body'), again.getAll('tags')]).toEqual(['kept <body>', ['home']]);
  });

  it('edits with PUT through ?_method= and deletes with DELETE through a hidden field, keeping the attachment when no file is chosen', async () => {
    const client = await loggedIn();
    const form = (await client.get('/notes/new')).form('#note').set('title', 'With file').upload('attachment', { filename: '../report.pdf', content: 'PDF' });
    await form.submit();
    const edit = (await client.get('/notes/1/edit')).form('#note');
    expect(edit.action).toBe('http://localhost/notes/1?_method=PUT');
    const saved = await edit.set('title', 'Renamed').set('tags', []).submit({ followRedirects: 1 });
    expect(saved.select('h1')[0]?.text).toBe('Renamed');
    expect(saved.select('.flash')[0]?.text).toBe('Note saved.');
    expect(saved.textBody).toContain('Attachment: report.pdf (3 bytes)');
    const remove = saved.form('#delete');
    expect([remove.action, remove.get('_method')]).toEqual(['http://localhost/notes/1', 'DELETE']);
    const list = await remove.submit({ followRedirects: 1 });
    expect(list.request.path).toBe('/notes/');
    expect(list.select('.flash')[0]?.text).toBe('Note deleted.');
    await client.get('/notes/1', { status: 404 });
  });

  it('overrides only a POST, only to PUT, PATCH or DELETE, and still refuses a cross-origin one', async () => {
    const client = await loggedIn();
    await (await client.get('/notes/new')).form('#note').set('title', 'Keep me').submit();
    // a link or an <img> is a GET: it shows the note, it never deletes
    expect((await client.get('/notes/1?_method=DELETE')).select('h1')[0]?.text).toBe('Keep me');
    const bad = await client.post('/notes/1?_method=GET', { status: 400, headers: { accept: 'text/plain' } });
    expect(bad.textBody).toContain('The query parameter _method must name one of PUT, PATCH, DELETE.');
    await client.post('/notes/1?_method=delete', { status: 403, headers: { 'sec-fetch-site': 'cross-site' } });
    await client.post('/notes/1?_method=PATCH', { status: 405 });
    expect((await client.get('/notes/1')).select('h1')[0]?.text).toBe('Keep me');
    await client.post('/notes/1?_method=delete', { status: 303, headers: { 'sec-fetch-site': 'same-origin' } });
    await client.get('/notes/1', { status: 404 });
  });

  it('sends a visitor to the login page, and after logout the private pages are gone', async () => {
    const client = await loggedIn();
    const list = await client.get('/notes/');
    expect(list.headers.get('cache-control')).toBe('no-store');
    await list.form().submit(); // Log out
    const back = await client.get('/notes/');
    expect([back.statusCode, back.location]).toEqual([303, 'http://localhost/login']);
  });

  it('pages by 10, the query built by urls.build', async () => {
    const client = await loggedIn();
    for (let i = 1; i <= 11; i++) await client.post('/notes/', { form: { title: `n${i}`, tags: 'work' } });
    const first = await client.get('/notes/', { query: { tag: 'work' } });
    expect(first.select('li')).toHaveLength(10);
    const second = await first.click('Next page');
    expect(second.request.pathQs).toBe('/notes/?page=2&tag=work');
    expect(second.select('li').map((li) => li.text)).toEqual(['n11']);
  });

  it('answers HEAD, and HTML 404 and 405 pages; /notes goes to /notes/ with its query', async () => {
    const client = await loggedIn(app);
    const head = await client.head('/notes/');
    expect([head.statusCode, head.textBody, head.contentType]).toEqual([200, '', 'text/html']);
    const missing = await client.get('/notes/999', { status: 404, headers: { accept: 'text/html' } });
    expect(missing.select('p')[0]?.text).toBe('There is no note 999.');
    const wrong = await client.request('PATCH', '/notes/', { status: 405, headers: { accept: 'text/html' } });
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
    expect(wrong.select('h1')[0]?.text).toBe('Method Not Allowed');
    const slash = await client.get('/notes?tag=work&page=2', { status: 308 });
    expect(slash.location).toBe('http://localhost/notes/?tag=work&page=2');
  });

  describe('over a real socket', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => {
      server = await serve(app, { host: '127.0.0.1', port: 0 });
    });
    afterAll(async () => {
      await server.close({ timeout: 500 });
    });

    it('answers an attachment past the limit with the 413 page, and the session stays', async () => {
      const login = await fetch(new URL('/login', server.url), { method: 'POST', body: new URLSearchParams({ user: 'bob' }), redirect: 'manual' });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const body = new FormData();
      body.set('title', 'Big');
      body.set('attachment', new Blob([new Uint8Array(Number(limits.maxFileSize) + 1)]), 'big.bin');
      const res = await fetch(new URL('/notes/', server.url), { method: 'POST', body, headers: { cookie, accept: 'text/html' }, redirect: 'manual' });
      expect(res.status).toBe(413);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.text()).toContain('The attachment is too large: 1 MiB at most.');
      const list = await fetch(new URL('/notes/', server.url), { headers: { cookie }, redirect: 'manual' });
      expect(list.status).toBe(200);
      expect(await list.text()).toContain('<nav>bob ');
    });

    it('takes a browser-style multipart post with UTF-8 text, a repeated tags field and an empty file input', async () => {
      const login = await fetch(new URL('/login', server.url), { method: 'POST', body: new URLSearchParams({ user: 'zoë' }), redirect: 'manual' });
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const body = new FormData();
      body.set('title', '日本語のメモ');
      body.append('tags', 'home');
      body.append('tags', 'urgent');
      body.set('attachment', new File([], '', { type: 'application/octet-stream' }));
      const created = await fetch(new URL('/notes/', server.url), { method: 'POST', body, headers: { cookie }, redirect: 'manual' });
      expect(created.status).toBe(303);
      const page = await (await fetch(created.headers.get('location')!, { headers: { cookie } })).text();
      expect(page).toContain('<h1>日本語のメモ</h1>');
      expect(page).toContain('#home</a> <a');
      expect(page).not.toContain('Attachment:');
    });
  });
});
