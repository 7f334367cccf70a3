/**
 * The session of one request: a JSON object store with flash messages (Flask's `session`,
 * `flash` and `get_flashed_messages`), loaded lazily and saved by `CookieSessions`.
 *
 * @module
 */

/** One flash message, as {@link Session.consumeFlashes} answers it. */
export interface Flash {
  /** The message. */
  readonly message: string;
  /** Its category (`'message'`, `'error'`, `'info'`…); default `'message'`, as Flask's `flash`. */
  readonly category: string;
}

/** What a session holds: its values and its pending flash messages. */
export interface SessionState {
  /** The values by key, each already a JSON copy (`set` stores `JSON.parse(JSON.stringify(value))`). */
  readonly data: Map<string, unknown>;
  /** The flash messages not yet consumed, oldest first (`flash` appends, `consumeFlashes` empties). */
  readonly flashes: Flash[];
}

/** What the session's middleware needs at head time: whether it was read or changed, and its state. */
export interface SealedSession extends SessionState {
  readonly accessed: boolean;
  readonly modified: boolean;
}

/**
 * Seals a session (see {@link Session}) and answers its state; the middleware's alone.
 * `exposed` tells, when asked (a first read after the head), whether the head sent lets a
 * shared cache store the page.
 */
export let sealSession: (session: Session, exposed: () => boolean) => SealedSession;

/**
 * Records `owner` (the `CookieSessions` whose middleware made the session) on a new session,
 * for {@link markSessionRead}; the middleware's alone, once per session.
 */
export let setSessionOwner: (session: Session, owner: object) => void;

/**
 * Counts the session as read when its stored state was read another way
 * (`CookieSessions.load` on a request below the middleware: an `errorPages` layout), so the
 * response varies on `Cookie` and a page made from a visitor's values is kept private. Nothing
 * when `owner` is not the one {@link setSessionOwner} recorded (another `CookieSessions`'
 * session), nor once the head was sent (a log line's read): the middleware's alone.
 */
export let markSessionRead: (session: Session, owner: object) => void;

/**
 * The session of the request (`sessionOf(req)` below a `CookieSessions` middleware): string
 * keys to JSON values, plus flash messages for the next request.
 *
 * - It is read from the cookie on first use, not before: a request that never touches it
 *   costs no verification and gets no `Vary: Cookie`.
 * - Values are stored as JSON: `set` keeps a JSON copy, so a `Date` becomes a string and
 *   `undefined` members disappear, as they will after the round trip through the cookie.
 *   Changing an object got from `get` changes nothing: `set` it again (or set `modified`).
 * - It is saved when the response head is sent, and only when modified. A change after that
 *   (from a streamed body) cannot reach the client: it throws instead of being lost.
 * - A first read after the head (from a streamed body) of a session holding values or flashes
 *   throws too when the head let a shared cache store the response (it says neither
 *   `private` nor `no-store`, or a CDN-targeted field gives it a lifetime): the head went out
 *   without `private` nor `Vary: Cookie`, and a cache could hand the page made from the
 *   session to others. Read it before the head; a session read before may be read again from
 *   the body.
 */
export class Session {
  readonly #load: () => SessionState | null;
  #state: SessionState | null = null;
  #accessed = false;
  #modified = false;
  #sealed = false;
  #exposed: () => boolean = () => false;
  #consumed: Flash[] | null = null;
  #owner: object | null = null;

  static {
    sealSession = (session, exposed) => {
      const state = session.#accessed ? session.#read(false) : { data: new Map<string, unknown>(), flashes: [] };
      session.#sealed = true;
      session.#exposed = exposed;
      return { ...state, accessed: session.#accessed, modified: session.#modified };
    };
    setSessionOwner = (session, owner) => {
      session.#owner = owner;
    };
    markSessionRead = (session, owner) => {
      if (session.#owner === owner && !session.#sealed) session.#accessed = true;
    };
  }

  /** @param load reads the stored state (`null` for none), on first use. */
  constructor(load: () => SessionState | null) {
    this.#load = load;
  }

  /**
   * The value under `key` (a JSON value, typed as the caller says), or `undefined`.
   *
   * @throws Error when the session is first read after the response head was sent (see above).
   */
  get<T = unknown>(key: string): T | undefined {
    return this.#read(true).data.get(key) as T | undefined;
  }

  /**
   * Whether `key` holds a value.
   *
   * @throws Error when the session is first read after the response head was sent (see above).
   */
  has(key: string): boolean {
    return this.#read(true).data.has(key);
  }

  /**
   * Stores a JSON copy of `value` under `key`; `undefined` removes the key (as `JSON.stringify`
   * drops an `undefined` member), so `set('user', form.get('user'))` never stores a hole.
   *
   * @returns this session, for chaining.
   * @throws TypeError when JSON cannot carry `value` (a function, a symbol, a `BigInt`, a
   *   cycle); Error after the response head was sent.
   */
  set(key: string, value: unknown): this {
    if (value === undefined) {
      this.delete(key);
      return this;
    }
    const text = json(value);
    this.#write().data.set(key, JSON.parse(text) as unknown);
    return this;
  }

  /**
   * Removes `key`.
   *
   * @returns whether it held a value.
   * @throws Error after the response head was sent, when there was one.
   */
  delete(key: string): boolean {
    if (!this.has(key)) return false;
    return this.#write().data.delete(key);
  }

  /**
   * Empties the session, flash messages included: the middleware then deletes the cookie
   * (logout). At login, call it before storing the user, so nothing put in the session before
   * the login (a CSRF token someone else knows, in a session planted in the browser) carries
   * over into the logged-in one, as Django's `login()` starts a new session.
   *
   * @throws Error after the response head was sent.
   */
  clear(): void {
    const state = this.#write();
    state.data.clear();
    state.flashes.length = 0;
  }

  /**
   * The keys, in insertion order.
   *
   * @throws Error when the session is first read after the response head was sent (see above).
   */
  keys(): string[] {
    return [...this.#read(true).data.keys()];
  }

  /**
   * How many keys the session holds (flash messages aside).
   *
   * @throws Error when the session is first read after the response head was sent (see above).
   */
  get size(): number {
    return this.#read(true).data.size;
  }

  /**
   * Whether the session changed in this request, so that the middleware saves it (Flask's
   * `session.modified`). Set it true after changing an object in place.
   */
  get modified(): boolean {
    return this.#modified;
  }

  set modified(value: boolean) {
    if (value) this.#write();
    else this.#modified = false;
  }

  /** Whether the session was read or written in this request (then the response varies on `Cookie`). */
  get accessed(): boolean {
    return this.#accessed;
  }

  /**
   * Adds a message for a later request to show once (Flask's `flash`): after a form post,
   * before the redirect. When the session cookie would pass 4096 bytes, `CookieSessions` drops
   * the oldest messages first.
   *
   * @param category default `'message'`.
   * @throws TypeError when `message` or `category` is not a string; Error after the response
   *   head was sent.
   */
  flash(message: string, category = 'message'): void {
    if (typeof message !== 'string' || typeof category !== 'string') throw new TypeError('a flash message and its category must be strings');
    this.#write().flashes.push({ message, category });
  }

  /**
   * The flash messages, oldest first, removed from the session (Flask's
   * `get_flashed_messages(with_categories=True)`): shown once. Further calls in the same
   * request answer the same list; messages flashed after the first call wait for the next
   * request.
   *
   * @throws Error after the response head was sent, when there were messages to remove, or
   *   when the session is first read then.
   */
  consumeFlashes(): Flash[] {
    if (this.#consumed === null) {
      const state = this.#read(true);
      const flashes = [...state.flashes];
      if (flashes.length > 0) this.#write().flashes.length = 0;
      this.#consumed = flashes;
    }
    return [...this.#consumed];
  }

  /**
   * The values as a plain object (`JSON.stringify(session)`), flash messages aside.
   *
   * @throws Error when the session is first read after the response head was sent (see above).
   */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.#read(true).data);
  }

  #read(access: boolean): SessionState {
    const late = access && !this.#accessed && this.#sealed;
    if (access) this.#accessed = true;
    this.#state ??= this.#load() ?? { data: new Map(), flashes: [] };
    if (late && (this.#state.data.size > 0 || this.#state.flashes.length > 0) && this.#exposed()) {
      // The head went out without Vary: Cookie or private: a shared cache could store this visitor's data.
      this.#accessed = false;
      throw new Error('the session was first read after the response head was sent (from a streamed body), on a response a shared cache may store: the head could not make it private; read the session before the head (outside the page, as for a log line: sessions.load(req))');
    }
    return this.#state;
  }

  #write(): SessionState {
    if (this.#sealed) {
      throw new Error('the session was saved when the response head was sent: change it before the head (not from a streamed body)');
    }
    this.#modified = true;
    return this.#read(true);
  }
}

function json(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value) as string | undefined;
  } catch (error) {
    throw new TypeError('a session value must be JSON-serialisable', { cause: error });
  }
  if (text === undefined) throw new TypeError('a session value must be JSON-serialisable');
  return text;
}
