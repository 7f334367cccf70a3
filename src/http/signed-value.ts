/**
 * Signed cookie values: `base64url(JSON) "." base64url(HMAC-SHA256)`, the MAC over a purpose,
 * the cookie's name and the payload, with key rotation. Shared by the signed-cookie
 * middleware (`AuthTickets`, `CookieSessions`); not exported.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { kindOf } from '../gateway/option-names.ts';

/** The key options of a signing middleware: `secret` or, for rotation, `secrets` (newest first); not both. */
export interface SigningKeys {
  secret?: string | Uint8Array | undefined;
  secrets?: ReadonlyArray<string | Uint8Array> | undefined;
}

/** Signed values longer than this are refused unread (browsers keep about 4096 bytes per cookie). */
export const MAX_SIGNED_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Signs and verifies JSON values for one purpose (`tsgi.auth_ticket`, `tsgi.session`): a value
 * signed for one purpose or one cookie name does not verify for another, so it cannot be moved
 * to another cookie or middleware. Signs with the first key, accepts any.
 */
export class Signer {
  readonly #keys: Buffer[];
  readonly #purpose: string;

  /**
   * @param owner names the middleware in the errors (`AuthTickets`).
   * @param what names its key in the errors (`an auth ticket secret`).
   * @throws TypeError when neither `secret` nor `secrets` is given, or both (Flask's
   *   `SECRET_KEY` and `SECRET_KEY_FALLBACKS` written as `secret` and `secrets` would sign with
   *   a fallback and never accept `secret`), `secrets` that is not an array, a key that is
   *   neither a string nor a `Uint8Array` (`undefined`: an unset environment variable), or a
   *   key shorter than 32 bytes.
   */
  constructor(keys: SigningKeys, purpose: string, owner: string, what: string) {
    if (keys.secret !== undefined && keys.secrets !== undefined) {
      throw new TypeError(`${owner} takes secret or secrets, not both: list every key in secrets, the one to sign with first`);
    }
    if (keys.secrets !== undefined && !Array.isArray(keys.secrets)) {
      throw new TypeError(`${owner}: secrets must be an array of keys, the one to sign with first, not ${kindOf(keys.secrets)}`);
    }
    const secrets = keys.secrets ?? (keys.secret !== undefined ? [keys.secret] : []);
    if (secrets.length === 0) throw new TypeError(`${owner} needs a secret (or a list of secrets)`);
    this.#keys = secrets.map((secret: unknown) => {
      // An unset environment variable in the list (`[process.env.NEW_KEY, process.env.OLD_KEY]`).
      if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
        throw new TypeError(`${what} must be a string or a Uint8Array, not ${secret === undefined ? 'undefined' : kindOf(secret)}`);
      }
      const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
      if (key.byteLength < 32) throw new TypeError(`${what} must be at least 32 bytes long`);
      return key;
    });
    this.#purpose = purpose;
  }

  /**
   * The signed value of `json` for the cookie `name` (its length unchecked: callers say what
   * to store less of).
   *
   * @throws TypeError when JSON cannot carry `json`.
   */
  sign(name: string, json: unknown): string {
    const text = JSON.stringify(json) as string | undefined;
    if (text === undefined) throw new TypeError('a signed value must be JSON-serialisable');
    const payload = Buffer.from(text, 'utf8').toString('base64url');
    return `${payload}.${this.#mac(this.#keys[0]!, name, payload).toString('base64url')}`;
  }

  /**
   * Checks a cookie value signed by {@link sign} for `name` with any of the keys. One spelling
   * only: base64url's unused trailing bits, quotes or percent-encoding make another value,
   * refused. Never throws.
   *
   * @returns `{ json }`, the parsed payload, or `null` for anything else.
   */
  verify(name: string, value: string | null | undefined): { json: unknown } | null {
    if (typeof value !== 'string' || value.length > MAX_SIGNED_LENGTH) return null;
    const dot = value.indexOf('.');
    if (dot === -1) return null;
    const payload = value.slice(0, dot);
    const signature = value.slice(dot + 1);
    if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) return null;
    const given = Buffer.from(signature, 'base64url');
    if (given.byteLength !== 32 || given.toString('base64url') !== signature) return null;
    let valid = false;
    for (const key of this.#keys) if (timingSafeEqual(this.#mac(key, name, payload), given)) valid = true;
    if (!valid) return null;
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.toString('base64url') !== payload) return null;
    try {
      return { json: JSON.parse(bytes.toString('utf8')) as unknown };
    } catch {
      return null;
    }
  }

  #mac(key: Buffer, name: string, payload: string): Buffer {
    return createHmac('sha256', key).update(`${this.#purpose}\n${name}\n${payload}`).digest();
  }
}
