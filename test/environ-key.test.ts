import { describe, expect, expectTypeOf, it } from 'vitest';
import { type EnvironKey, Request, Response, defineEnvironKey, defineMiddleware } from 'tsgi';
import { type AuthTicketOptions, type ProxyFixOrig, type Ticket, AuthTickets, authTicketKey, authUserKey, bearerAuth, proxyFix, proxyFixOrigKey } from 'tsgi/middleware';

interface Tenant {
  id: string;
  plan: 'free' | 'pro';
}

describe('defineEnvironKey', () => {
  const tenantKey = defineEnvironKey<Tenant>('myapp.tenant');

  it('reads and writes one environ key, through a Request or the environ itself', () => {
    const req = Request.blank('/');
    expect(tenantKey.name).toBe('myapp.tenant');
    expect(tenantKey.get(req)).toBeUndefined();
    tenantKey.set(req, { id: 't1', plan: 'pro' });
    expect(req.environ['myapp.tenant']).toEqual({ id: 't1', plan: 'pro' });
    expect(tenantKey.get(req.environ)?.plan).toBe('pro');
    tenantKey.set(req.environ, { id: 't2', plan: 'free' });
    expect(tenantKey.get(req)).toEqual({ id: 't2', plan: 'free' });
    tenantKey.delete(req);
    expect('myapp.tenant' in req.environ).toBe(false);
    expect(tenantKey.get(req)).toBeUndefined();
  });

  it('carries the type: get answers T | undefined, set takes a T', () => {
    expectTypeOf(tenantKey.get).returns.toEqualTypeOf<Tenant | undefined>();
    expectTypeOf(tenantKey.set).parameter(1).toEqualTypeOf<Tenant>();
    expectTypeOf(authTicketKey).toEqualTypeOf<EnvironKey<Ticket>>();
    expectTypeOf(proxyFixOrigKey).toEqualTypeOf<EnvironKey<ProxyFixOrig>>();
    expectTypeOf(authUserKey).toEqualTypeOf<EnvironKey<unknown>>();
    const req = Request.blank('/');
    // @ts-expect-error a string is not a Tenant
    tenantKey.set(req, 'pro');
  });

  it('passes a value from a middleware to the app below', async () => {
    const tenants = defineMiddleware(async (req, app) => {
      tenantKey.set(req, { id: req.host, plan: 'pro' });
      return req.getResponse(app);
    });
    const site = Request.application((req) => new Response(`${tenantKey.get(req)?.id}: ${tenantKey.get(req)?.plan}`));
    const res = await Request.blank('/', { headers: { host: 'acme.example' } }).getResponse(tenants(site));
    expect(await res.text()).toBe('acme.example: pro');
  });

  it('refuses names without a prefix and a dot (spec §2.4)', () => {
    for (const bad of ['REMOTE_USER', 'user', '.user', 'myapp.', 'my app.user', 'a.b c', '']) {
      expect(() => defineEnvironKey(bad), bad).toThrow(TypeError);
    }
    expect(defineEnvironKey('myapp.user.id').name).toBe('myapp.user.id');
  });
});

describe("the toolkit's keys", () => {
  it('are named tsgi. + snake_case, one dot', () => {
    expect([authUserKey.name, authTicketKey.name, proxyFixOrigKey.name]).toEqual([
      'tsgi.auth_user',
      'tsgi.auth_ticket',
      'tsgi.proxy_fix_orig',
    ]);
  });

  it('hold what the middleware set: the bearer user, the ticket, the proxy originals', async () => {
    const options: AuthTicketOptions = { secret: 'a-long-enough-secret-for-tests-0123456789' };
    const tickets = new AuthTickets(options);
    const login = new Response('');
    tickets.remember(login, 'bob', { data: { roles: ['editor'] } });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;

    const seen: unknown[] = [];
    const site = Request.application((req) => {
      seen.push(authUserKey.get(req), authTicketKey.get(req)?.user, authTicketKey.get(req)?.data, proxyFixOrigKey.get(req)?.REMOTE_ADDR);
      return new Response('ok');
    });
    const app = proxyFix(tickets.middleware(bearerAuth(site, { verify: (token) => (token === 't0k' ? { id: 7 } : null) })), { xFor: 1 });
    const req = Request.blank('/', { headers: { cookie, authorization: 'Bearer t0k', 'x-forwarded-for': '203.0.113.5' } });
    req.environ.REMOTE_ADDR = '10.0.0.1';
    const res = await req.getResponse(app);
    expect(res.statusCode).toBe(200);
    expect(seen).toEqual([{ id: 7 }, 'bob', { roles: ['editor'] }, '10.0.0.1']);
    expect(req.environ.REMOTE_ADDR).toBe('203.0.113.5');
  });
});
