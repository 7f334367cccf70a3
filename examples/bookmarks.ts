/**
 * Bookmarks: a small app on `RouteMap` (tsgi/routing). Every link and redirect is built with
 * `urls.build`, so the app works wherever it is mounted; the values reach the handlers typed
 * (`id` is a number).
 *
 * | Route           | Endpoint  | Does                                              |
 * | --------------- | --------- | ------------------------------------------------- |
 * | `GET /`         | `index`   | the list and a form to add one                    |
 * | `POST /`        | `index`   | adds a bookmark, 303 to it                        |
 * | `GET /<int:id>` | `show`    | one bookmark, with a form to edit it              |
 * | `POST /<int:id>`| `show`    | saves the edit, 303 back                          |
 * | `GET /tags/<tag>` | `tagged`| the bookmarks with that tag                       |
 *
 * ```sh
 * npx tsgi serve examples/bookmarks.ts:app
 * ```
 *
 * @module
 */
import { HTTPBadRequest, HTTPNotFound, type Request, redirect } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { RouteMap, type UrlsOf } from 'tsgi/routing';
import { page } from './upload.ts';

interface Bookmark {
  id: number;
  title: string;
  url: string;
  tags: string[];
}

/** The routes: endpoint → pattern. */
export const routes = new RouteMap({
  index: { path: '/', methods: ['GET', 'POST'] },
  show: { path: '/<int:id>', methods: ['GET', 'POST'] },
  tagged: '/tags/<tag>',
});

type Urls = UrlsOf<typeof routes>;

/** The fields of a bookmark from a submitted form; 400 when the URL is not http(s). */
async function readBookmark(req: Request): Promise<Omit<Bookmark, 'id'>> {
  const form = await req.form();
  const url = form.get('url')?.trim() ?? '';
  if (!/^https?:\/\/\S+$/.test(url)) throw new HTTPBadRequest('url must be an http or https URL');
  const tags = (form.get('tags') ?? '').split(/[\s,]+/).filter(Boolean);
  return { title: form.get('title')?.trim() || url, url, tags };
}

function item(bookmark: Bookmark, urls: Urls): string {
  const tags = bookmark.tags.map((tag) => `<a href="${escapeHtml(urls.build('tagged', { tag }))}">#${escapeHtml(tag)}</a>`).join(' ');
  return `<li><a href="${escapeHtml(urls.build('show', { id: bookmark.id }))}">${escapeHtml(bookmark.title)}</a> ${tags}</li>`;
}

function editor(action: string, bookmark?: Bookmark): string {
  const value = (text: string | undefined) => escapeHtml(text ?? '');
  return (
    `<form method="post" action="${escapeHtml(action)}">\n` +
    `<p><label>Title <input name="title" value="${value(bookmark?.title)}"></label></p>\n` +
    `<p><label>URL <input name="url" value="${value(bookmark?.url)}"></label></p>\n` +
    `<p><label>Tags <input name="tags" value="${value(bookmark?.tags.join(' '))}"></label></p>\n` +
    `<p><button>${bookmark ? 'Save' : 'Add'}</button></p>\n</form>`
  );
}

/** A bookmarks app with its own store (each call starts empty). */
export function createBookmarks() {
  const store = new Map<number, Bookmark>();
  let nextId = 1;
  const find = (id: number) => {
    const bookmark = store.get(id);
    if (!bookmark) throw new HTTPNotFound(`no bookmark ${id}`);
    return bookmark;
  };
  return routes.app({
    index: async (req, _values, urls) => {
      if (req.method === 'POST') {
        const bookmark = { id: nextId++, ...(await readBookmark(req)) };
        store.set(bookmark.id, bookmark);
        return redirect(urls.build('show', { id: bookmark.id }), 303);
      }
      const list = [...store.values()].map((b) => item(b, urls)).join('\n');
      return page('Bookmarks', `<ul>\n${list}\n</ul>\n<h2>Add one</h2>\n${editor(urls.build('index'))}`);
    },
    show: async (req, { id }, urls) => {
      const bookmark = find(id);
      if (req.method === 'POST') {
        Object.assign(bookmark, await readBookmark(req));
        return redirect(urls.build('show', { id }), 303);
      }
      return page(
        bookmark.title,
        `<p><a href="${escapeHtml(bookmark.url)}">${escapeHtml(bookmark.url)}</a></p>\n` +
          `${editor(urls.build('show', { id }), bookmark)}\n<p><a href="${escapeHtml(urls.build('index'))}">All bookmarks</a></p>`,
      );
    },
    tagged: (_req, { tag }, urls) => {
      const list = [...store.values()].filter((b) => b.tags.includes(tag)).map((b) => item(b, urls));
      return page(`Tagged ${tag}`, `<ul>\n${list.join('\n')}\n</ul>`);
    },
  });
}

/** The app `tsgi serve examples/bookmarks.ts:app` serves. */
export const app = createBookmarks();
