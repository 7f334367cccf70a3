/**
 * Which of Bun and Deno runs this code, read once when the module loads, for the few fetch
 * behaviours in which they differ from Node and from each other (what their `fetch()` decodes,
 * the URL Deno gives a request without `Host`). Cloudflare Workers: see `inWorkers`.
 *
 * Each is read from the runtime's own version, not from a global of its name: tests of code
 * written for Deno or Bun (Supabase edge functions) run it on Node under a stubbed
 * `globalThis.Deno` (`{ env }`) or `globalThis.Bun`, and a Deno program may give itself a
 * `Bun` shim; none of them sets these.
 *
 * @module
 */

/** `process.versions` where there is one (Node, Bun, Deno). */
const versions = (globalThis as { process?: { versions?: Record<string, string | undefined> } }).process?.versions;

/** True on Bun: `process.versions.bun` is its version (Bun's documented check). */
export const inBun = typeof versions?.bun === 'string';

/** True on Deno: `Deno.version.deno` is its version (a stub of `Deno.env` has none). */
export const inDeno = typeof (globalThis as { Deno?: { version?: { deno?: unknown } } }).Deno?.version?.deno === 'string';
