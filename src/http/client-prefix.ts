/**
 * The client an address stands for: an IPv6 one by its prefix, as one customer holds a whole
 * /64 or /56 and may send from any address of it.
 *
 * @module
 */

/** The prefix length, in bits, {@link clientPrefix} counts an IPv6 address by by default. */
export const DEFAULT_IPV6_SUBNET = 56;

/**
 * The client `address` stands for, as express-rate-limit 8's `ipKeyGenerator(ip, ipv6Subnet)`
 * reads it: an IPv4 address as it is; an IPv4-mapped IPv6 one (`::ffff:192.0.2.7`, a
 * dual-stack socket's IPv4 client) as its dotted quads (`192.0.2.7`); any other IPv6 one as
 * its first `ipv6Subnet` bits in RFC 5952 form, whatever form it is written in
 * (`2001:db8:1:200::/56` for `2001:DB8:1:2ff::7`), or with `128` as the address itself
 * (`2001:db8::7`); anything else (a zone, `fe80::1%eth0`; not an address) as it is. Never
 * parses an IPv4 address (the common case costs one `includes`).
 *
 * @param ipv6Subnet - bits of an IPv6 address kept, 1 to 128. Default 56: an ISP gives each
 *   customer a /64 or a /56; `64` for networks that give out /64s, `128` for each address apart.
 * @throws RangeError for an `ipv6Subnet` that is no integer from 1 to 128.
 */
export function clientPrefix(address: string, ipv6Subnet: number = DEFAULT_IPV6_SUBNET): string {
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    const got = String(ipv6Subnet);
    throw new RangeError(`clientPrefix: ipv6Subnet must be an integer from 1 to 128, got ${got}`);
  }
  if (!address.includes(':')) return address;
  const host = ipv6Host(address);
  if (host === undefined) return address;
  const groups = wordsOf(host);
  if (groups.slice(0, 5).every((word) => word === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  if (ipv6Subnet === 128) return host;
  const kept = groups.map((word, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Subnet - 16 * i));
    return word & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${ipv6Host(kept.map((word) => word.toString(16)).join(':'))!}/${ipv6Subnet}`;
}

/**
 * `address` in its one RFC 5952 form (the URL parser's, any embedded IPv4 in hex), or
 * `undefined` for no IPv6 address.
 */
function ipv6Host(address: string): string | undefined {
  return URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1);
}

/** The eight 16-bit words of an IPv6 address in RFC 5952 form (at most one `::`, no IPv4). */
function wordsOf(host: string): number[] {
  const [head = '', tail] = host.split('::');
  const words = (part: string) =>
    part === '' ? [] : part.split(':').map((word) => Number.parseInt(word, 16));
  if (tail === undefined) return words(head);
  const [first, last] = [words(head), words(tail)];
  return [...first, ...Array<number>(8 - first.length - last.length).fill(0), ...last];
}
