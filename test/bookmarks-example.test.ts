/**
 * examples/bookmarks.ts, driven as a browser would with the test client: add a bookmark with the
 * form, follow the redirect, edit it, follow a tag link; errors as 400/404/405; every URL
 * built under the mount prefix.
 */
import { describe, expect, it } from 'vitest';
import { mount } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { createBookmarks, routes } from '../examples/bookmarks.ts';

describe('examples/bookmarks.ts', () => {
  it('adds a bookmark through the form and shows it (303 to the new page)', async () => {
    const client = new TestClient(createBookmarks());
    const index = await client.get('/');
    expect(index.select('h1')[0]!.text).toBe('Bookmarks');
    const shown = await index.form().set('title', 'tsgi').set('url', 'https://example.com/tsgi').set('tags', 'web ts').submit({ followRedirects: 1 });
    expect(shown.history.map((r) => r.statusCode)).toEqual([303]);
    expect(shown.url).toBe('http://localhost/1');
    expect(shown.select('p a')[0]).toMatchObject({ text: 'https://example.com/tsgi' });
    const list = await (await shown.click('All bookmarks')).click('#ts');
    expect(list.url).toBe('http://localhost/tags/ts');
    expect(list.select('li a').map((a) => a.text)).toEqual(['tsgi', '#web', '#ts']);
  });

  it('edits a bookmark with the form on its page', async () => {
    const client = new TestClient(createBookmarks());
    const shown = await (await client.get('/')).form().set('url', 'https://a.example/').submit({ followRedirects: 1 });
    const form = shown.form();
    expect(form.get('title')).toBe('https://a.example/');
    const saved = await form.set('title', 'A').submit('Save', { followRedirects: 1 });
    expect(saved.select('h1')[0]!.text).toBe('A');
  });

  it('answers 400 for a URL that is not http(s), 404 for an unknown id, 405 for other methods', async () => {
    const client = new TestClient(createBookmarks());
    const bad = await client.post('/', { form: { url: 'javascript:alert(1)' }, status: 400, headers: { Accept: 'text/plain' } });
    expect(bad.textBody).toContain('url must be an http or https URL');
    await client.get('/7', { status: 404 });
    expect((await client.delete('/', { status: 405 })).headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
  });

  it('builds every link and redirect under the mount prefix', async () => {
    const client = new TestClient(mount({ '/bookmarks': createBookmarks() }));
    await client.get('/bookmarks', { status: 308 });
    const index = await client.get('/bookmarks/');
    expect(index.form().action).toBe('http://localhost/bookmarks/');
    const shown = await index.form().set('url', 'https://b.example/').set('tags', 'x').submit({ followRedirects: 1 });
    expect(shown.url).toBe('http://localhost/bookmarks/1');
    expect((await shown.click('All bookmarks')).select('li a').map((a) => a.attributes.href)).toEqual(['/bookmarks/1', '/bookmarks/tags/x']);
    expect(routes.build('tagged', { tag: 'a b' })).toBe('/tags/a%20b');
  });
});
