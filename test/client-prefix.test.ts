/**
 * `clientPrefix` (`tsgi/http`): the client an address stands for, an IPv6 one by its prefix,
 * as `serve()`'s `maxConnectionsPerClient` and examples/rate-limit.ts count it. A test machine
 * can bind no IPv6 address but `::1`, so the prefixes of others are checked here.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IPV6_SUBNET, clientPrefix } from 'tsgi/http';

describe('clientPrefix', () => {
  it('keeps the first 56 bits of an IPv6 address by default, in RFC 5952 form', () => {
    expect(DEFAULT_IPV6_SUBNET).toBe(56);
    expect(clientPrefix('2001:db8:1:1ff:aaaa::7')).toBe('2001:db8:1:100::/56');
    expect(clientPrefix('2001:DB8:1:1FF:0:0:0:7')).toBe('2001:db8:1:100::/56');
    expect(clientPrefix('2001:db8:1:200::1')).toBe('2001:db8:1:200::/56');
    expect(clientPrefix('::1')).toBe('::/56');
  });

  it('takes any prefix length from 1 to 128, 128 naming the address itself', () => {
    expect(clientPrefix('2001:db8:1:1ff::7', 64)).toBe('2001:db8:1:1ff::/64');
    expect(clientPrefix('2001:db8:1:1ff::7', 48)).toBe('2001:db8:1::/48');
    expect(clientPrefix('2001:db8:1:1ff::7', 52)).toBe('2001:db8:1::/52');
    expect(clientPrefix('2001:db8:1:1ff::7', 60)).toBe('2001:db8:1:1f0::/60');
    expect(clientPrefix('ffff::1', 1)).toBe('8000::/1');
    expect(clientPrefix('2001:DB8:0:0::7', 128)).toBe('2001:db8::7');
  });

  it('reads an IPv4 address, mapped or not, as its dotted quads', () => {
    expect(clientPrefix('192.0.2.7')).toBe('192.0.2.7');
    expect(clientPrefix('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientPrefix('::FFFF:c000:207', 128)).toBe('192.0.2.7');
  });

  it('leaves what it cannot read as it is, and refuses a prefix length out of 1 to 128', () => {
    expect(clientPrefix('fe80::1%eth0')).toBe('fe80::1%eth0');
    expect(clientPrefix('not:an address')).toBe('not:an address');
    for (const bits of [0, 129, 56.5, Number.NaN]) {
      const message = `clientPrefix: ipv6Subnet must be an integer from 1 to 128, got ${bits}`;
      expect(() => clientPrefix('::1', bits)).toThrow(new RangeError(message));
    }
  });
});
