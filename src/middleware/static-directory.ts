/**
 * Serving a directory tree: safe path joining, index files, trailing-slash redirects and an
 * optional HTML listing (Paste's `StaticURLParser`, Werkzeug's `SharedDataMiddleware`).
 *
 * @module
 */
import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type App, type Body, type Environ, type StartResponse } from '../gateway/types.ts';
import { HTTPForbidden, HTTPMethodNotAllowed, HTTPNotFound } from '../exceptions/client-errors.ts';
import { HTTPMovedPermanently } from '../exceptions/redirects.ts';
import { escapeHtml } from '../response/error-body.ts';
import { Request } from '../request/request.ts';
import { Response } from '../response/response.ts';
import { isBelow, joinBelow, realBelow, safeSegments } from './safe-path.ts';
import { redirectToCleanPath } from './clean-path.ts';
import { ALLOW, type FileOptions, checkDownload, contentTypeOf, fixedHeaders, sendFile } from './static-file.ts';
import { choosePrecompressed } from './static-precompressed.ts';
import { preloadCompressible } from './compressible-loader.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link directoryApp}. */
export interface DirectoryOptions extends FileOptions {
  /**
   * The file served for a directory URL (ending in `/`), or several tried in order; `false`
   * for none. Default `'index.html'`.
   */
  index?: string | readonly string[] | false | undefined;
  /** Render an HTML listing for a directory without an index file; default false (404). */
  listing?: boolean | undefined;
  /**
   * Serve files reached through symlinks that point outside the root; default false (such
   * paths answer 404). Symlinks that stay inside the root are always followed. Either way a
   * link does not get round `dotfiles`: its target is hidden when its real path has a
   * dotfile segment below the root, or, out of the root, when the file's own name is one.
   */
  followSymlinks?: boolean | undefined;
  /**
   * Paths with a segment starting with `.` (`.env`, `.git/config`): `'ignore'` (default)
   * answers 404 as if absent, `'deny'` answers 403, `'allow'` serves them. A first segment
   * `.well-known` (RFC 8615: `/.well-known/acme-challenge/…`, `/.well-known/security.txt`) is
   * served whatever this says, as Caddy and WhiteNoise do; dotfiles below it follow the rule.
   */
  dotfiles?: 'ignore' | 'deny' | 'allow' | undefined;
  /**
   * Serve the precompressed copies a build left next to a file (`app.js.br`, `app.js.gz`) in
   * its place to a client whose `Accept-Encoding` takes their coding; default false (a copy is
   * only ever served by its own name, and no request pays for looking copies up). Opt-in as
   * Hono's `serveStatic({ precompressed: true })`, Caddy's `file_server { precompressed }`,
   * nginx's `gzip_static on` and sirv's `brotli`/`gzip`: a site may hold an `x.gz` that is a
   * download of its own, not a copy of `x`. See {@link directoryApp} for how copies are served.
   */
  precompressed?: boolean | undefined;
}

/** Every option of {@link DirectoryOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const DIRECTORY_OPTIONS = { index: true, listing: true, followSymlinks: true, dotfiles: true, precompressed: true, maxAge: true, contentType: true, headers: true, download: true } as const satisfies OptionNames<DirectoryOptions>;

/**
 * An app serving the files under `root`: the request's `PATH_INFO` names a file below it
 * (mount it with `mount({ '/static': directoryApp('public') })`). Each file is served as
 * `fileApp` serves one: GET/HEAD only, content type, `ETag` and `Last-Modified`,
 * 304/412, byte ranges, streamed from disk. Another method gets 405 with `Allow: GET, HEAD`
 * where a GET would find a file, a directory or its listing, and the 404 a GET gets
 * elsewhere (WebOb's `DirectoryApp`, nginx for a POST): so in
 * `cascade([directoryApp('public'), site], { catch: [404] })` a `POST /logo.png` is 405 and a
 * `POST /login` goes on to `site`. `OPTIONS *` (`PATH_INFO` `*`, RFC 9110 §9.3.7: the server,
 * no resource) is a 404 without `Allow`, as from a `RouteMap`, never a file named `*`.
 *
 * Paths are joined safely (see `safeSegments`): a path with a `..` segment (sent as `..`,
 * `%2e%2e` or `..%2f`), a backslash (`%5c`), a NUL (`%00`), a drive letter, or a segment
 * ending in a dot or a space (`secret.txt.`, which Windows opens as `secret.txt`) answers **404**,
 * exactly as a file that does not exist, so probing learns nothing. A path with repeated
 * slashes or a `.` segment (`//admin/x`, `/./admin/x`) answers **308** to its clean URL, as
 * `mount` does (under `mount` it never gets here): served as `/admin/x` at once, it would go
 * round a layer above that tested the path as sent. So does a path whose
 * real location (symlinks resolved) is outside the root, unless `followSymlinks`, and a
 * dotfile unless `dotfiles` says otherwise. A file the process may not read answers 403.
 * The root may be a symlink swapped while the app runs (an atomic deploy): its real path is
 * looked up again when a path is not found below the one known, or (`followSymlinks`) its
 * real path leads out of it and is a directory or holds a dot segment (a link to a shared
 * folder out of the root costs no lookup of the root per request).
 *
 * A directory requested without its trailing slash answers **301** to the same URL with
 * the slash, built from the request's URL (`req.pathUrl`, `SCRIPT_NAME` included), so it
 * works when mounted, query string kept. With the slash, the first existing `index` file is served, else
 * the listing when `listing` is on (names HTML-escaped and percent-encoded in links,
 * directories first, then by name; it shows exactly the entries a request would be served:
 * none that would answer 404 or 403, such as a link to a dotfile), else 404. A file requested
 * with a trailing slash is 404.
 *
 * With `precompressed: true`, the copies a build left next to a file (`app.js.br`,
 * `app.js.gz`) are served in its place to a client whose `Accept-Encoding` takes their coding
 * (nginx's `gzip_static on`), for the types `compress` would compress:
 * `Content-Encoding` set, the file's type, the copy's length and an ETag of its own
 * (`"…-br"`); every answer for such a file has `Vary: Accept-Encoding`. A `Range` request is
 * answered from the file itself, a copy older than the file (by a whole second: the
 * `brotli` CLI copies its mtime to the second) is ignored as stale, and one
 * that cannot be opened (unreadable, deleted since it was found) gives way to the file.
 *
 * @example
 * ```ts
 * import { directoryApp, mount } from 'tsgi/middleware';
 *
 * export const app = mount({
 *   '/': site,
 *   '/static': directoryApp('examples/public', { maxAge: 3600 }),
 *   '/files': directoryApp('/srv/files', { index: false, listing: true }),
 * });
 * ```
 *
 * @throws TypeError (at once) when `options` hold a header, content type or download name
 *   that cannot be sent, an empty `contentType`, a `download` neither a name nor a boolean, a `listing`, `followSymlinks` or
 *   `precompressed` that is not a boolean, a `dotfiles` other than `'ignore'`, `'deny'` and
 *   `'allow'`, an `index` that is not a file name, a list of them or `false`, or a `maxAge`
 *   that is not a number (`'3600'`, `''`, `null`, `NaN`; they are validated once, not per request).
 */
export function directoryApp(root: string, options: DirectoryOptions = {}): App {
  checkOptions('directoryApp', options, DIRECTORY_OPTIONS);
  const base = path.resolve(root);
  const indexes = indexNames(options.index);
  const dotfiles = dotfilesRule(options.dotfiles);
  const precompressed = booleanOption('directoryApp', 'precompressed', options.precompressed);
  // What decides which files have copies loads now, in the background (compressible-loader.ts).
  if (precompressed) preloadCompressible();
  const listing = booleanOption('directoryApp', 'listing', options.listing);
  checkDownload('directoryApp', options.download);
  const fixed = fixedHeaders('directoryApp', options);
  // With `dotfiles: 'allow'`, a followed link's real path is not needed: no realpath is paid for it.
  const follow: Follow = { symlinks: booleanOption('directoryApp', 'followSymlinks', options.followSymlinks), real: dotfiles !== 'allow' };
  let realRoot: string | null = null;
  /**
   * The root's real path, kept between requests and looked up again when `fresh` (or not
   * found yet): a symlink on the way to the root may be swapped while the app runs (an atomic
   * deploy, `current` → `releases/42`).
   */
  const resolveRoot = async (fresh = false) => {
    if (fresh || realRoot === null) realRoot = await realpath(base).catch(() => null);
    return realRoot;
  };

  return async (environ, startResponse) => {
    // Another method is refused (405) only where a GET finds something: a path with nothing
    // there is a 404 whatever the method, as in WebOb's `DirectoryApp` and nginx (a POST).
    const readOnly = environ.REQUEST_METHOD === 'GET' || environ.REQUEST_METHOD === 'HEAD';
    const notAllowed = () => new HTTPMethodNotAllowed(ALLOW).respond(environ, startResponse);
    const notFound = () => new HTTPNotFound().respond(environ, startResponse);
    const pathInfo = environ.PATH_INFO;
    // `OPTIONS *` names the server, no file (RFC 9110 §9.3.7): answered as a `RouteMap` does
    // (404, no `Allow`), never looked up, even where a file is named `*` (`/%2A` asks for that one).
    if (pathInfo === '*') return notFound();
    const segments = safeSegments(pathInfo);
    if (segments === null) return notFound();
    // `//a` and `/./a` would be served as `/a` out of sight of a layer above that read them as
    // sent (a guard on `/admin` lets `//admin/x` by): their clean URL comes back through it.
    const redirect = redirectToCleanPath(environ, startResponse);
    if (redirect !== null) return redirect;
    if (dotfiles !== 'allow' && hasDotfile(segments)) {
      return dotfiles === 'deny' ? new HTTPForbidden().respond(environ, startResponse) : notFound();
    }
    const target = joinBelow(base, segments);
    let realBase = await resolveRoot();
    if (target === null || realBase === null) return notFound();
    let located = await locate(realBase, target, follow);
    // Not there (or refused: its real path left the root as known), or a followed link the
    // dotfile rule could read otherwise under a moved root: the root may have moved (a swapped
    // symlink), so it is looked up again.
    if (located === null || outOfRootWhereItMatters(realBase, located)) {
      const known = realBase;
      realBase = await resolveRoot(true);
      if (realBase === null) return notFound();
      if (realBase !== known) located = await locate(realBase, target, follow);
      if (located === null) return notFound();
    }
    // A symlink with a plain name that leads to a dotfile (`envlink` → `.env`, `config` →
    // `../.env`) is one too: the rule is applied to the real path as well.
    if (dotfiles !== 'allow' && isHidden(realBase, located)) {
      return dotfiles === 'deny' ? new HTTPForbidden().respond(environ, startResponse) : notFound();
    }
    const root = realBase;
    const servable = (found: Located | null): found is Located => found !== null && !found.directory && (dotfiles === 'allow' || !isHidden(root, found));
    // Type and download name go by the name asked for, not a symlink target's (serve-static,
    // Werkzeug) nor a precompressed copy's (`app.js.br` is sent as `app.js`, coded).
    const send = async (file: Located, name: string) => {
      if (!readOnly) return notAllowed();
      if (!precompressed) return sendFile(environ, startResponse, file.path, fixed, name);
      const find = async (copy: string) => {
        const found = await locate(root, copy, follow);
        return servable(found) ? found : null;
      };
      const { copy, vary } = await choosePrecompressed(environ, file, contentTypeOf(fixed, name), find);
      return sendFile(environ, startResponse, copy?.path ?? file.path, fixed, name, { encoding: copy?.coding ?? null, vary, identity: copy === null ? undefined : file.path });
    };
    if (!located.directory) {
      return pathInfo.endsWith('/') ? notFound() : send(located, target);
    }
    if (!pathInfo.endsWith('/')) return readOnly ? redirectToSlash(environ, startResponse) : notAllowed();
    for (const name of indexes) {
      const index = await locate(realBase, path.join(located.path, name), follow);
      if (servable(index)) return send(index, path.join(target, name));
    }
    if (!listing) return notFound();
    if (!readOnly) return notAllowed();
    let html: string;
    try {
      html = await renderListing(located.path, segments, realBase, environ, { dotfiles, follow });
    } catch (error) {
      // As for a file: a directory that cannot be read is refused, one gone meanwhile not found.
      const code = (error as { code?: string }).code;
      if (code === 'EACCES' || code === 'EPERM') return new HTTPForbidden().respond(environ, startResponse);
      if (code === 'ENOENT' || code === 'ENOTDIR') return notFound();
      throw error;
    }
    return new Response(html, { contentType: 'text/html' }).respond(environ, startResponse);
  };
}

/** What `dotfiles` may say. */
const DOTFILES: ReadonlyArray<NonNullable<DirectoryOptions['dotfiles']>> = ['ignore', 'deny', 'allow'];

/**
 * The `dotfiles` option, checked: one of {@link DOTFILES}, `'ignore'` when left out.
 *
 * @throws TypeError `directoryApp: dotfiles must be 'ignore', 'deny' or 'allow', got true`.
 */
function dotfilesRule(value: unknown): 'ignore' | 'deny' | 'allow' {
  if (value === undefined) return 'ignore';
  if (DOTFILES.includes(value as 'ignore')) return value as 'ignore' | 'deny' | 'allow';
  throw new TypeError(`directoryApp: dotfiles must be 'ignore', 'deny' or 'allow', got ${JSON.stringify(value) ?? String(value)}`);
}

/**
 * The `index` option as the list of names tried: `['index.html']` when left out, none for
 * `false`. A name that is not a non-empty string would make every directory request fail.
 *
 * @throws TypeError `directoryApp: index must be a file name, a list of them or false, got true`.
 */
function indexNames(value: unknown): string[] {
  if (value === undefined) return ['index.html'];
  if (value === false) return [];
  const names: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [null];
  if (names.every((name) => typeof name === 'string' && name !== '')) return names as string[];
  throw new TypeError(`directoryApp: index must be a file name, a list of them or false, got ${JSON.stringify(value) ?? String(value)}`);
}

/** How {@link locate} treats symlinks: followed out of the root or not, real path wanted or not. */
interface Follow {
  readonly symlinks: boolean;
  /** Look up the real path of a followed link too (for the dotfile rule). */
  readonly real: boolean;
}

/** What {@link locate} found. */
interface Located {
  /** The path to serve: the real one unless symlinks are followed as they are. */
  path: string;
  /** The real path (symlinks resolved), `null` when not looked up (followed, dotfiles allowed). */
  real: string | null;
  directory: boolean;
  /** Its modification time, ms since the epoch (a precompressed copy older than its file is stale). */
  mtimeMs: number;
}

/**
 * True when `located`, a followed link's target, lies out of `realBase` (the root's real path
 * as known) where the dotfile rule would read it otherwise were the root moved: a real path
 * with a dot segment (`repo` → the new release's `.git`, out of the old root, where only its
 * name would be checked), or a directory, whose index and listing are read against the root.
 * A site's links to a shared assets folder out of the root are neither, and cost no second
 * look up of the root per request.
 */
function outOfRootWhereItMatters(realBase: string, located: Located): boolean {
  if (located.real === null || isBelow(realBase, located.real)) return false;
  return located.directory || hasDotfile(located.real.split(path.sep));
}

/**
 * Finds what `target` is: its path to serve, its real path, and whether it is a directory;
 * `null` when missing or refused (its real path out of the root, unless followed).
 */
async function locate(realRoot: string, target: string, follow: Follow): Promise<Located | null> {
  let real: string | null = null;
  if (!follow.symlinks) {
    real = await realBelow(realRoot, target);
    if (real === null) return null;
  } else if (follow.real) {
    real = await realpath(target).catch(() => null);
    if (real === null) return null;
  }
  const file = follow.symlinks ? target : real!;
  try {
    const info = await stat(file);
    if (!info.isDirectory() && !info.isFile()) return null; // FIFOs, sockets, devices
    return { path: file, real, directory: info.isDirectory(), mtimeMs: info.mtimeMs };
  } catch {
    return null;
  }
}

/**
 * True when the real path of what was located is or lies in a dotfile (a name starting with
 * `.`) below `realRoot`; out of the root (a followed link), when its own name is one.
 */
function isHidden(realRoot: string, { real }: Located): boolean {
  if (real === null) return false;
  if (!isBelow(realRoot, real)) return path.basename(real).startsWith('.');
  const relative = path.relative(realRoot, real);
  return relative !== '' && hasDotfile(relative.split(path.sep));
}

/**
 * True when a path below the root (its segments) has a dotfile segment, a name starting with
 * `.`. A first segment `.well-known` is not one (RFC 8615 well-known URIs: ACME HTTP-01
 * challenges, `security.txt`, as Caddy and WhiteNoise serve them); the names below it are
 * checked as anywhere else.
 */
function hasDotfile(segments: readonly string[]): boolean {
  for (let i = segments[0] === '.well-known' ? 1 : 0; i < segments.length; i++) if (segments[i]!.startsWith('.')) return true;
  return false;
}

function redirectToSlash(environ: Environ, startResponse: StartResponse): Body {
  const req = new Request(environ);
  const query = req.queryString;
  const location = `${req.pathUrl}/${query ? `?${query}` : ''}`;
  return new HTTPMovedPermanently(location).respond(environ, startResponse);
}

/**
 * True when the process may read the file at `file` (`access`, so ACLs count), or list and
 * enter the directory: what a request for it needs not to answer 403.
 */
async function mayRead(file: string, directory: boolean): Promise<boolean> {
  return access(file, directory ? constants.R_OK | constants.X_OK : constants.R_OK).then(() => true, () => false);
}

interface Entry {
  name: string;
  /** The name's UTF-8 bytes, as read from disk: their order is the code-point order of the names. */
  bytes: Buffer;
  directory: boolean;
}

/**
 * The HTML listing of `directory` (the one `segments` name): directories first, then files,
 * each group by name (code-point order). It lists what a request for the entry would be served, by the rules of
 * {@link directoryApp}: no name a request path cannot hold (`a\b`, `C:x`, `x.`, one that is no UTF-8), no dotfile (but as
 * `dotfiles` says, and `.well-known` at the root), no link out of the root (unless followed),
 * broken or to a dotfile, no socket or device, no file the process may not read nor directory
 * it may not list (403).
 */
async function renderListing(
  directory: string,
  segments: readonly string[],
  realRoot: string,
  environ: Environ,
  options: { dotfiles: 'ignore' | 'deny' | 'allow'; follow: Follow },
): Promise<string> {
  const found: Entry[] = [];
  for (const dirent of await readdir(directory, { withFileTypes: true, encoding: 'buffer' })) {
    // A name that is no UTF-8 reads with U+FFFD in place of its bytes: no request names it.
    const name = dirent.name.toString('utf8');
    if (!Buffer.from(name).equals(dirent.name)) continue;
    if (safeSegments(name)?.[0] !== name) continue;
    if (options.dotfiles !== 'allow' && hasDotfile([...segments, name])) continue;
    let isDirectory = dirent.isDirectory();
    if (dirent.isSymbolicLink()) {
      // Where the link leads decides, as when it is requested.
      const located = await locate(realRoot, path.join(directory, name), options.follow);
      if (located === null || (options.dotfiles !== 'allow' && isHidden(realRoot, located))) continue;
      isDirectory = located.directory;
    } else if (!dirent.isFile() && !isDirectory) {
      continue; // sockets, FIFOs, devices
    }
    found.push({ name, bytes: dirent.name, directory: isDirectory });
  }
  // A file the process may not read, or a directory it may not list, answers 403. Checked
  // all at once: one awaited after the other, they tripled the time a large listing took.
  const readable = await Promise.all(found.map(({ name, directory: dir }) => mayRead(path.join(directory, name), dir)));
  const entries = found.filter((_, i) => readable[i]);
  // By code point: UTF-8 bytes compare so, where `<` on strings compares UTF-16 units (and
  // puts 😀, U+1F600, before ﬁ, U+FB01).
  entries.sort((a, b) => Number(b.directory) - Number(a.directory) || Buffer.compare(a.bytes, b.bytes));
  const shown = escapeHtml(`${environ.SCRIPT_NAME}${environ.PATH_INFO}`);
  const parent = segments.length > 0 ? ['<li><a href="../">../</a></li>'] : [];
  const items = entries.map(({ name, directory: dir }) => {
    const suffix = dir ? '/' : '';
    return `<li><a href="./${escapeHtml(encodeURIComponent(name))}${suffix}">${escapeHtml(name)}${suffix}</a></li>`;
  });
  return (
    `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Index of ${shown}</title></head>\n` +
    `<body>\n<h1>Index of ${shown}</h1>\n<ul>\n${[...parent, ...items].join('\n')}\n</ul>\n</body>\n</html>\n`
  );
}
