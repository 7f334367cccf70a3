/**
 * The methods `serve()`'s HTTP/2 check and the `TestClient` take (src/http/methods.ts, written
 * out for code without `node:http`) are the ones Node's HTTP/1 parser takes on the Node this
 * runs on (CI runs 22 and 24): a Node that adds or drops one fails here, not in production.
 */
import { METHODS } from 'node:http';
import { expect, it } from 'vitest';
import { knownMethods } from '../src/http/methods.ts';

it('knows the methods of http.METHODS, no more and no fewer', () => {
  expect(knownMethods()).toEqual([...METHODS].sort());
});
