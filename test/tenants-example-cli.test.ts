/**
 * The command examples/tenants.ts gives to serve `tenantSite` with `tsgi serve`, run as written
 * (with `--port 0`), behind the load balancer the example describes: its own `Host`, the
 * client's in `X-Forwarded-Host`, `https` in `X-Forwarded-Proto`, from a private address.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, get, servingUrl } from './cli-helpers.ts';

/** The `tsgi serve …` arguments of the example's doc comment. */
function documentedArgs(): string[] {
  const source = readFileSync(`${ROOT}/examples/tenants.ts`, 'utf8');
  const line = /^ \* .*npx tsgi (serve .*)$/m.exec(source)![1]!;
  return line.split(/\s+/);
}

describe('examples/tenants.ts under tsgi serve, as its comment says', () => {
  it('finds the tenant from the host the load balancer forwards, and builds https URLs on it (CLI)', async () => {
    const args = documentedArgs();
    expect(args.slice(0, 2)).toEqual(['serve', 'examples/tenants.ts:tenantSite']);
    const run = cli([...args, '--host', '127.0.0.1', '--port', '0']);
    const url = await servingUrl(run);
    const res = await get(url, { host: 'tenants.internal', 'x-forwarded-host': 'acme.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' });
    expect(res.body).toBe('Acme Corp: not logged in (https://acme.example.com/)');
    expect(res.status).toBe(200);
  });
});
