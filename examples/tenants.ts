/**
 * A multi-tenant site: each tenant on a subdomain (`acme.example.com`) and, if it wants, on a
 * domain of its own (`shop.acme.test`), the marketing site on `www.example.com`, all behind a
 * load balancer that ends TLS and sets `X-Forwarded-For`, `-Proto` and `-Host`.
 *
 * What it shows (docs/routing.md#hosts, "A tenant per host"):
 *
 * - **Dispatch on the host.** `mount`'s host keys name fixed hosts (`www.example.com`); the
 *   tenants, whose custom domains come from a database and change at run time, are found by a
 *   middleware from the request's host name, as Express's `vhost` and Werkzeug's host
 *   dispatching do. The name is compared in lower case without its port or a trailing dot
 *   (`Acme.Example.com.:443` is `acme.example.com`).
 * - **The host checked after `proxyFix`.** `serve()`'s `trustedHosts` (which `proxyFix` checks
 *   the forwarded host against too) cannot list domains added at run time, so it is left out.
 *   The tenant lookup runs inside `proxyFix`, on the forwarded host, and
 *   answers `404` to a host that is no tenant's, so no page, redirect or built URL ever names
 *   a host a client chose.
 * - **A session per tenant.** The session cookie is host-only (no `Domain`), named `__Host-`
 *   so that no sibling subdomain, another tenant's, can set one for the whole domain, and
 *   holds the tenant it was made for: every tenant shares the signing key, so a cookie copied
 *   from `acme.example.com` to `bob.example.com` would verify there too; the login is not taken
 *   on another tenant's host.
 * - **CORS per tenant.** Each tenant lists the origins of its own front ends.
 * - **No posts from another tenant.** Every tenant's subdomain is the same *site* as the others,
 *   so the `SameSite=Lax` session cookie goes with a form another tenant's page posts here (a
 *   forged login, the victim's browser signed into the poster's account): `crossOriginProtection`
 *   refuses it (`Sec-Fetch-Site: same-site`, or an `Origin` of another host), letting through
 *   the tenant's own front ends, the origins its CORS lists.
 *
 * ```sh
 * # tenantSite behind the CLI's proxyFix, so the access log shows the client's address; the
 * # flags are app's proxyFix options (X-Forwarded-Host too, from a loopback or private peer):
 * SESSION_SECRET=$(openssl rand -base64 32) npx tsgi serve examples/tenants.ts:tenantSite --proxy-headers --forwarded-host --forwarded-allow-ips loopback,uniquelocal
 * ```
 * Without `--forwarded-host` the tenant is looked up from the load balancer's own `Host`: every
 * request is a 404. `app` is `tenantSite` with its own `proxyFix`, for `serve(app)` (under
 * `tsgi serve`, without `--proxy-headers`: one `proxyFix` per stack).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { type App, HTTPBadRequest, HTTPNotFound, HTTPSeeOther, Request, Response, compose, defineEnvironKey, defineMiddleware } from 'tsgi';
import { CookieSessions, cors, crossOriginProtection, mount, proxyFix, sessionOf } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';

/** A tenant, as a database row would hold it. */
export interface Tenant {
  id: string;
  name: string;
  /** The origins of the tenant's own front ends, allowed to call its API with cookies. */
  origins: readonly string[];
}

/** The domain whose subdomains are the tenants (`<id>.example.com`). */
export const PARENT_DOMAIN = 'example.com';

/** The tenants by id, and their custom domains: tables in a real app. */
const TENANTS = new Map<string, Tenant>([
  ['acme', { id: 'acme', name: 'Acme Corp', origins: ['https://app.acme.test'] }],
  ['bob', { id: 'bob', name: "Bob's Shop", origins: [] }],
]);
const CUSTOM_DOMAINS = new Map<string, string>([['shop.acme.test', 'acme']]);

/**
 * The tenant a host name names: `<id>.example.com` (one label) or a custom domain; compared
 * in lower case without a trailing dot, as hosts are. `undefined` for any other host.
 */
export function tenantFor(hostname: string): Tenant | undefined {
  let name = hostname.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  const suffix = `.${PARENT_DOMAIN}`;
  if (name.endsWith(suffix)) {
    const id = name.slice(0, -suffix.length);
    return id.includes('.') ? undefined : TENANTS.get(id);
  }
  const id = CUSTOM_DOMAINS.get(name);
  return id === undefined ? undefined : TENANTS.get(id);
}

/** The request's tenant, set by {@link withTenant} for the apps below it. */
export const tenantKey = defineEnvironKey<Tenant>('tenants.tenant');

/** The tenant of `req` (the apps below {@link withTenant} always have one). */
const tenantOf = (req: Request): Tenant => tenantKey.get(req)!;

/** Finds the tenant of the request's host (`req.hostname`: after `proxyFix`, the forwarded one); another host is a 404. */
const withTenant = defineMiddleware((req, app) => {
  const tenant = tenantFor(req.hostname);
  if (tenant === undefined) throw new HTTPNotFound('No site here.');
  tenantKey.set(req, tenant);
  return app;
});

/** A random session key, for trying the example out; an error under `NODE_ENV=production`. */
function processOnlySecret(): string {
  if (process.env.NODE_ENV === 'production') throw new Error('examples/tenants.ts: set SESSION_SECRET (32 random bytes: openssl rand -base64 32), the same in every process');
  return randomBytes(32).toString('base64url');
}

// One key signs every tenant's sessions; the tenant in the session keeps each login on its host.
const sessions = new CookieSessions({
  // Without SESSION_SECRET (trying it out), a key of this process alone: sessions end with it and
  // are not shared by `--workers`, so it is refused under NODE_ENV=production.
  secret: process.env.SESSION_SECRET ?? processOnlySecret(),
  cookieName: '__Host-session',
  secure: true,
});

/** The user logged in on this tenant, or `undefined` (a session made for another tenant counts as none). */
function userOf(req: Request): string | undefined {
  const session = sessionOf(req);
  return session.get('tenant') === tenantOf(req).id ? session.get<string>('user') : undefined;
}

/** The longest user name taken at login, in UTF-16 code units (at most 300 bytes of UTF-8). */
const MAX_USER_LENGTH = 100;

const routes = new RouteMap({
  home: '/',
  login: { path: '/login', methods: ['POST'] },
  me: '/api/me',
});

const site = routes.app({
  home: (req, _values, urls) => new Response(`${tenantOf(req).name}: ${userOf(req) ?? 'not logged in'} (${urls.build('home', {}, { external: true })})`),
  login: async (req, _values, urls) => {
    const user = (await req.form()).get('user') ?? '';
    // The name goes into the session cookie, which cannot pass 4096 bytes: a longer one would be a 500.
    if (user.length > MAX_USER_LENGTH) throw new HTTPBadRequest(`The user name is longer than ${MAX_USER_LENGTH} characters.`);
    const session = sessionOf(req);
    session.clear();
    session.set('tenant', tenantOf(req).id);
    session.set('user', user);
    return new HTTPSeeOther(urls.build('home'));
  },
  me: (req) => Response.json({ tenant: tenantOf(req).id, user: userOf(req) ?? null }),
});

/** The tenant's front ends may read its API with cookies. */
const tenantCors = (app: App): App =>
  cors(app, {
    origin: (origin, environ) => tenantKey.get(environ)?.origins.includes(origin) ?? false,
    credentials: true,
  });

/**
 * Refuses the posts of other origins, another tenant's subdomain among them (the same site, so the
 * `Lax` session cookie goes with them), but the tenant's own front ends (read from the environ,
 * as its CORS policy is). Inside `tenantCors`, so its 403 carries the CORS fields.
 */
const tenantCsrf = (app: App): App =>
  crossOriginProtection(app, {
    exempt: (environ) => {
      const origin = environ.HTTP_ORIGIN;
      return typeof origin === 'string' && (tenantKey.get(environ)?.origins.includes(origin) ?? false);
    },
  });

/** The marketing site, on fixed hosts. */
const www = Request.application((req) => new Response(`Sign up, or go to https://acme.${PARENT_DOMAIN}/ (you asked for ${req.hostname})`));

/** The marketing site on its fixed hosts, every other host a tenant's (or a 404). */
export const tenantSite: App = mount({
  [`http://www.${PARENT_DOMAIN}/`]: www,
  [`http://${PARENT_DOMAIN}/`]: Request.application((req) => new HTTPSeeOther(`${req.scheme}://www.${PARENT_DOMAIN}${req.pathQs}`)),
  '/': compose(withTenant, tenantCors, tenantCsrf, sessions.middleware)(site),
});

// One load balancer in front, on this machine or a private network.
export const app = proxyFix(tenantSite, { xFor: 1, xProto: 1, xHost: 1, trust: ['loopback', 'uniquelocal'] });
