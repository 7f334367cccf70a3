// The routing benchmark (bench/routing.ts) compares the same work: on every rule set, the three
// routers find the same rule for every request path, and nothing for the paths that match none.
import { describe, expect, it } from 'vitest';
import { ROUTERS, requestPaths, ruleSet } from '../bench/routing.ts';

describe('bench/routing.ts', () => {
  it.each([10, 100, 1000])('%i rules: every router finds the same rule for every path', (size) => {
    const rules = ruleSet(size);
    expect(rules).toHaveLength(size);
    const paths = requestPaths(rules);
    const expected = paths.map((path) => rules.findIndex((rule) => rule.sample === path));
    expect(expected.filter((i) => i === -1).length).toBe(Math.max(1, size / 10));
    for (const router of ROUTERS) {
      const lookup = router.build(rules);
      expect(paths.map(lookup), router.name).toEqual(expected);
    }
  });
});
