/**
 * Options given where a redirect's or a 405's detail goes (WebOb's
 * `HTTPFound(location=…, headers=…)` ported as `new HTTPFound('/x', { headers })`) are told
 * to go third, after the detail, where the message said second, which for a redirect made
 * `new HTTPFound(undefined, …)`, refused for its missing location.
 */
import { describe, expect, it } from 'vitest';
import { HTTPFound, HTTPMethodNotAllowed, HTTPNotFound, HTTPSeeOther } from 'tsgi';

const construct = (make: () => unknown) => {
  try {
    make();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('an exception given its options in the detail’s place', () => {
  it('tells a redirect to give them third, after its location and the detail', () => {
    const options = { headers: { 'X-A': '1' } } as unknown as string;
    expect(construct(() => new HTTPFound('/x', options))).toEqual(
      new TypeError('HTTPFound: the detail must be a string; options go third (new HTTPFound(location, undefined, { … }))'),
    );
    expect(String(construct(() => new HTTPSeeOther('/x', options)))).toContain('new HTTPSeeOther(location, undefined, { … })');
    // The advice works: the same options, third.
    expect(new HTTPFound('/x', undefined, { headers: { 'X-A': '1' } }).headers.get('X-A')).toBe('1');
  });

  it('tells a 405 to give them third, after its methods and the detail', () => {
    const options = { headers: { 'X-A': '1' } } as unknown as string;
    expect(construct(() => new HTTPMethodNotAllowed(['GET'], options))).toEqual(
      new TypeError('HTTPMethodNotAllowed: the detail must be a string; options go third (new HTTPMethodNotAllowed(allow, undefined, { … }))'),
    );
  });

  it('keeps telling the other classes to give them second', () => {
    const options = { headers: { 'X-A': '1' } } as unknown as string;
    expect(construct(() => new HTTPNotFound(options))).toEqual(
      new TypeError('HTTPNotFound: the detail must be a string; options go second (new HTTPNotFound(undefined, { … }))'),
    );
  });
});
