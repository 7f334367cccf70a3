/**
 * Notes: a server-rendered CRUD app as a Flask, Rails or Django developer writes one. HTML
 * pages and forms, every link built with `urls.build`, a signed cookie session with flash
 * messages, `crossOriginProtection` against forged posts, and the habits such an app needs:
 *
 * - **POST, redirect, GET**: a saved form answers `303 See Other` to the note's page, which
 *   shows the flash message once; reloading it posts nothing again.
 * - **Invalid input** re-renders the form with what was typed and `422 Unprocessable Content`.
 * - **PUT and DELETE from HTML forms**: a form can only send `GET` or `POST`, so the delete
 *   form carries a hidden `_method` field and the edit form (multipart, for its attachment,
 *   a body `methodOverride` does not read) posts to `?_method=PUT`; `methodOverride`
 *   makes the request that method before the routes see it (docs/middleware-method-override.md).
 * - **Tags** from checkboxes (`getAll`: none checked sends nothing), an optional
 *   **attachment** (a file input left empty is no upload), a friendly `413` page past
 *   {@link limits}.
 * - **Private pages**: `Cache-Control: no-store`, so the back button after logout does not
 *   show them from the browser's cache.
 * - Every user value escaped with `escapeHtml` (markupsafe's `escape`).
 *
 * | Route                            | Endpoint | Does                                  |
 * | -------------------------------- | -------- | ------------------------------------- |
 * | `GET /notes/?page=2&tag=work`    | `notes`  | the list, 10 a page, by tag           |
 * | `POST /notes/`                   | `notes`  | creates a note: 303, or 422           |
 * | `GET /notes/new`                 | `create` | the empty form                        |
 * | `GET /notes/<int:id>`            | `note`   | one note                              |
 * | `PUT /notes/<int:id>`            | `note`   | saves the edit: 303, or 422           |
 * | `DELETE /notes/<int:id>`         | `note`   | deletes it: 303 to the list           |
 * | `GET /notes/<int:id>/edit`       | `edit`   | the form, filled in                   |
 * | `GET`, `POST /login`, `POST /logout` | `login`, `logout` | a name, no password (an example) |
 *
 * ```sh
 * SESSION_SECRET=$(openssl rand -base64 32) npx tsgi serve examples/notes.ts:app
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { type App, type FormOptions, HTTPNotFound, HTTPSeeOther, type Request, Response, compose, redirect } from 'tsgi';
import { escapeHtml } from 'tsgi/http';
import { CookieSessions, crossOriginProtection, errorPages, errors, methodOverride, sessionOf } from 'tsgi/middleware';
import { RouteMap, type UrlsOf } from 'tsgi/routing';

/** The form limits of a note: a 1 MiB attachment, 1 MiB in all. */
export const limits: FormOptions = Object.freeze({ maxFileSize: 1024 * 1024, maxBodySize: 1024 * 1024, maxFiles: 1 });
/** The tags a note may have: one checkbox each. */
export const TAGS = ['work', 'home', 'urgent'] as const;
const PER_PAGE = 10;

interface Note {
  id: number;
  title: string;
  body: string;
  tags: string[];
  attachment?: { name: string; size: number } | undefined;
}

/** The routes: endpoint → pattern (`home` redirects `/` to the list). */
export const routes = new RouteMap({
  notes: { path: '/notes/', methods: ['GET', 'POST'] },
  create: '/notes/new',
  note: { path: '/notes/<int:id>', methods: ['GET', 'PUT', 'DELETE'] },
  edit: '/notes/<int:id>/edit',
  login: { path: '/login', methods: ['GET', 'POST'] },
  logout: { path: '/logout', methods: ['POST'] },
  home: { path: '/', redirectTo: '/notes/' },
});
type Urls = UrlsOf<typeof routes>;
const e = escapeHtml;

/** A page: the flash messages (shown once), the user, `no-store` (a private page). */
function page(req: Request, urls: Urls, title: string, body: string, status = 200): Response {
  const session = sessionOf(req);
  const flashes = session.consumeFlashes().map((f) => `<p class="flash ${e(f.category)}">${e(f.message)}</p>`);
  const user = session.get<string>('user');
  const nav = `<nav>${e(user ?? '')} <form method="post" action="${e(urls.build('logout'))}"><button>Log out</button></form></nav>`;
  const res = new Response(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${e(title)}</title></head>\n<body>${nav}\n${flashes.join('\n')}\n<h1>${e(title)}</h1>\n${body}\n</body></html>\n`,
    { status, contentType: 'text/html' },
  );
  res.cacheControl.noStore = true;
  return res;
}

function editor(action: string, note: Partial<Note>, errors: string[] = []): string {
  const boxes = TAGS.map((t) => `<label><input type="checkbox" name="tags" value="${t}"${note.tags?.includes(t) ? ' checked' : ''}> ${t}</label>`);
  return (
    errors.map((m) => `<p class="error">${e(m)}</p>`).join('\n') +
    `<form id="note" method="post" action="${e(action)}" enctype="multipart/form-data">\n` +
    `<p><label>Title <input name="title" value="${e(note.title ?? '')}"></label></p>\n` +
    `<p><label>Body <textarea name="body">${e(note.body ?? '')}</textarea></label></p>\n` +
    `<p>${boxes.join(' ')}</p>\n<p><label>Attachment <input type="file" name="attachment"></label></p>\n<button>Save</button>\n</form>`
  );
}

/** The note a form describes, and what is wrong with it. */
async function readNote(req: Request): Promise<{ note: Omit<Note, 'id'>; errors: string[] }> {
  const form = await req.form(limits);
  const file = (await req.files(limits)).get('attachment');
  const title = (form.get('title') ?? '').trim();
  const tags = form.getAll('tags').filter((t) => (TAGS as readonly string[]).includes(t));
  const errors = [];
  if (title === '') errors.push('The title is required.');
  if (title.length > 200) errors.push('The title is at most 200 characters.');
  const attachment = file && { name: file.safeFilename || 'attachment', size: file.size };
  return { note: { title, body: form.get('body') ?? '', tags, attachment }, errors };
}

/** The notes app with its own store (each call starts empty). */
export function createNotes(): App {
  const store = new Map<number, Note>();
  let nextId = 1;
  const find = (id: number): Note => {
    const note = store.get(id);
    if (!note) throw new HTTPNotFound(`There is no note ${id}.`);
    return note;
  };
  /** Flask-Login's `login_required`: a visitor is sent to the login page. */
  const requireUser = (req: Request, urls: Urls) => {
    if (!sessionOf(req).has('user')) throw new HTTPSeeOther(urls.build('login'));
  };
  return routes.app({
    notes: async (req, _values, urls) => {
      requireUser(req, urls);
      if (req.method === 'POST') {
        const { note, errors } = await readNote(req);
        if (errors.length > 0) return page(req, urls, 'New note', editor(urls.build('notes'), note, errors), 422);
        const id = nextId++;
        store.set(id, { id, ...note });
        sessionOf(req).flash(`Note “${note.title.slice(0, 50)}” created.`, 'info');
        return redirect(urls.build('note', { id }), 303);
      }
      const n = Number(req.query.get('page') ?? '1');
      const number = Number.isSafeInteger(n) && n > 0 ? n : 1;
      const tag = req.query.get('tag') ?? undefined;
      const all = [...store.values()].filter((note) => tag === undefined || note.tags.includes(tag));
      const shown = all.slice((number - 1) * PER_PAGE, number * PER_PAGE);
      const items = shown.map((note) => `<li><a href="${e(urls.build('note', { id: note.id }))}">${e(note.title)}</a></li>`);
      const next = all.length > number * PER_PAGE ? `<a rel="next" href="${e(urls.build('notes', { page: number + 1, tag }))}">Next page</a>` : '';
      return page(req, urls, 'Notes', `<ul>\n${items.join('\n')}\n</ul>\n${next}\n<p><a href="${e(urls.build('create'))}">New note</a></p>`);
    },
    create: (req, _values, urls) => {
      requireUser(req, urls);
      return page(req, urls, 'New note', editor(urls.build('notes'), {}));
    },
    note: async (req, { id }, urls) => {
      requireUser(req, urls);
      const note = find(id);
      if (req.method === 'DELETE') {
        store.delete(id);
        sessionOf(req).flash('Note deleted.', 'info');
        return redirect(urls.build('notes'), 303);
      }
      if (req.method === 'PUT') {
        const { note: edited, errors } = await readNote(req);
        if (errors.length > 0) return page(req, urls, 'Edit note', editor(`${urls.build('note', { id })}?_method=PUT`, edited, errors), 422);
        Object.assign(note, { ...edited, attachment: edited.attachment ?? note.attachment }); // no file chosen: keep the old one
        sessionOf(req).flash('Note saved.', 'info');
        return redirect(urls.build('note', { id }), 303);
      }
      const attachment = note.attachment ? `<p>Attachment: ${e(note.attachment.name)} (${note.attachment.size} bytes)</p>` : '';
      const tags = note.tags.map((t) => `<a href="${e(urls.build('notes', { tag: t }))}">#${e(t)}</a>`).join(' ');
      return page(
        req,
        urls,
        note.title,
        `<p>${e(note.body)}</p>\n<p>${tags}</p>\n${attachment}\n<p><a href="${e(urls.build('edit', { id }))}">Edit</a></p>\n` +
          `<form id="delete" method="post" action="${e(urls.build('note', { id }))}"><input type="hidden" name="_method" value="DELETE"><button>Delete</button></form>`,
      );
    },
    edit: (req, { id }, urls) => {
      requireUser(req, urls);
      return page(req, urls, 'Edit note', editor(`${urls.build('note', { id })}?_method=PUT`, find(id)));
    },
    login: async (req, _values, urls) => {
      if (req.method === 'POST') {
        const user = ((await req.form()).get('user') ?? '').trim().slice(0, 50);
        if (user === '') return page(req, urls, 'Log in', loginForm(urls, 'Your name, please.'), 422);
        const session = sessionOf(req);
        session.clear(); // a new session at login
        session.set('user', user);
        session.flash(`Welcome, ${user}.`, 'info');
        return redirect(urls.build('notes'), 303);
      }
      return page(req, urls, 'Log in', loginForm(urls));
    },
    logout: (req, _values, urls) => {
      sessionOf(req).clear();
      return redirect(urls.build('login'), 303);
    },
  });
}

const loginForm = (urls: Urls, error?: string) =>
  `${error ? `<p class="error">${e(error)}</p>` : ''}<form id="login" method="post" action="${e(urls.build('login'))}"><input name="user"><button>Log in</button></form>`;

/**
 * The session middleware, signed with `$SESSION_SECRET`. Without it (trying the example out), a
 * random key of this process alone: sessions end with it, and each of `tsgi serve --workers`
 * would hold another (a login seen by one worker, refused by the next), so with
 * `NODE_ENV=production` the module refuses to load.
 */
export const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET ?? processOnlySecret() });

function processOnlySecret(): string {
  if (process.env.NODE_ENV === 'production') throw new Error('examples/notes.ts: set SESSION_SECRET (32 random bytes: openssl rand -base64 32), the same in every process');
  return randomBytes(32).toString('base64url');
}

/** Error pages in the site's look: the 404 of a note, the 413 of a large attachment, the 403 of a forged post. */
const errorPage = (app: App) =>
  errorPages(app, {
    render: (error) =>
      `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${error.code} ${e(error.title)}</title></head>\n` +
      `<body><h1>${e(error.title)}</h1><p>${e(error.code === 413 ? 'The attachment is too large: 1 MiB at most.' : (error.detail ?? error.description))}</p></body></html>\n`,
  });

/** The app `tsgi serve examples/notes.ts:app` serves. */
export const app: App = compose(errorPage, errors, crossOriginProtection, methodOverride, sessions.middleware)(createNotes());
