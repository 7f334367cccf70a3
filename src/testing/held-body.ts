/**
 * A test client request body held whole, as `fetch()` sends it.
 *
 * @module
 */

/**
 * A body the test client holds whole, as `fetch()` takes one (Fetch's `BodyInit` but for a
 * stream): text (sent as UTF-8), bytes (an `ArrayBuffer` or a view of one), a `Blob` (a
 * `File`), `URLSearchParams`, `FormData`.
 */
export type HeldBody = string | ArrayBuffer | ArrayBufferView | Blob | URLSearchParams | FormData;

/**
 * The bytes of `body` and the `Content-Type` it implies, by Fetch's "extract a body" (§6.2.1,
 * through the platform's own `Response`, undici on Node): `text/plain;charset=UTF-8` for a
 * string, `application/x-www-form-urlencoded;charset=UTF-8` for `URLSearchParams`,
 * `multipart/form-data; boundary=…` for `FormData` (a new boundary each time), a `Blob`'s
 * `type` when it has one; `null` for bytes and a `Blob` without a type.
 */
export async function extractBody(body: HeldBody): Promise<{ bytes: Uint8Array; type: string | null }> {
  // Every kind of HeldBody is a fetch body; its type wants views of an `ArrayBuffer` only.
  const extracted = new globalThis.Response(body as ConstructorParameters<typeof globalThis.Response>[0]);
  return { bytes: new Uint8Array(await extracted.arrayBuffer()), type: extracted.headers.get('content-type') };
}
