import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type Environ, HeaderList, Request, Response } from 'tsgi';
import {
  PARSED,
  type ParseCache,
  type ParsedValues,
  cachedField,
  field,
  fromEnviron,
  fromHeaders,
  installParts,
  liveField,
} from '../src/http/descriptors.ts';
import { byteCount, etag, httpDate, list, mediaTypeOf, parsed, text } from '../src/http/converters.ts';

const AGENT = field(fromEnviron('HTTP_USER_AGENT'), text);
const SINCE = cachedField(fromEnviron('HTTP_IF_MODIFIED_SINCE'), httpDate);
const TAGS = cachedField(
  fromEnviron('HTTP_X_TAGS'),
  parsed((raw) => list.parse(raw)),
);
const COUNTER = liveField(fromEnviron('HTTP_X_COUNT'), (raw, commit) => ({
  raw,
  bump() {
    this.raw = String(Number(this.raw ?? 0) + 1);
    commit(this.raw);
  },
}));

/** A part declaring a toy wrapper's attributes, as Request's parts do. */
abstract class ToyFields implements ParseCache {
  declare readonly environ: Environ;
  abstract [PARSED](): ParsedValues;
  get agent(): string | null {
    return AGENT.get(this);
  }
  get since(): Date | null {
    return SINCE.get(this);
  }
  set since(value: Date | null) {
    SINCE.set(this, value);
  }
  get tags(): string[] {
    return TAGS.get(this);
  }
  get counter(): { raw: string | null; bump(): void } {
    return COUNTER.get(this);
  }
  shout(suffix: string): string {
    return `${this.agent ?? ''}${suffix}`.toUpperCase();
  }
}
interface Toy extends ToyFields {}
class Toy implements ParseCache {
  readonly environ: Environ;
  #parsed: ParsedValues | undefined;
  constructor(environ: Environ) {
    this.environ = environ;
  }
  [PARSED](): ParsedValues {
    return (this.#parsed ??= []);
  }
}
installParts(Toy, [ToyFields]);

function toy(extra: Record<string, string> = {}): Toy {
  return new Toy({ ...Request.blank('/').environ, ...extra });
}

describe('installParts', () => {
  it('installs accessors and methods on the prototype like a class body: non-enumerable', () => {
    const agent = Object.getOwnPropertyDescriptor(Toy.prototype, 'agent')!;
    expect(typeof agent.get).toBe('function');
    expect(agent.set).toBeUndefined();
    expect(agent.enumerable).toBe(false);
    const shout = Object.getOwnPropertyDescriptor(Toy.prototype, 'shout')!;
    expect(shout.value).toBe(ToyFields.prototype.shout);
    expect(shout).toMatchObject({ writable: true, enumerable: false });
    expect(toy({ HTTP_USER_AGENT: 'curl' }).shout('!')).toBe('CURL!');
    expect(Object.hasOwn(Toy.prototype, 'constructor') && Toy.prototype.constructor).toBe(Toy);
  });

  it('adds no own property to instances, so nothing shadows the accessors', () => {
    const t = toy();
    expect(Object.keys(t)).toEqual(['environ']);
    for (const name of Object.getOwnPropertyNames(ToyFields.prototype)) expect(Object.hasOwn(t, name)).toBe(false);
  });

  it('a getter without a setter: assigning throws in strict code', () => {
    const t = toy();
    expect(() => {
      (t as { agent: string | null }).agent = 'x';
    }).toThrow(TypeError);
  });

  it('refuses a member defined twice', () => {
    class Twice {
      shout(): string {
        return '';
      }
    }
    expect(() => installParts(Twice, [ToyFields])).toThrow(/Twice\.shout is defined twice/);
  });
});

describe('field, cachedField, liveField over an environ', () => {
  it('field reads live and null removes the key', () => {
    const t = toy();
    expect(t.agent).toBeNull();
    t.environ.HTTP_USER_AGENT = 'a/1';
    expect(t.agent).toBe('a/1');
    t.environ.HTTP_USER_AGENT = 42; // not a string: absent
    expect(t.agent).toBeNull();
  });

  it('cachedField answers the same object while the raw value is unchanged, and re-parses after a change', () => {
    const t = toy({ HTTP_X_TAGS: 'a, b,, c' });
    const first = t.tags;
    expect(first).toEqual(['a', 'b', 'c']);
    expect(t.tags).toBe(first);
    t.environ.HTTP_X_TAGS = 'd';
    expect(t.tags).toEqual(['d']);
  });

  it('cachedField writes through the converter; null deletes', () => {
    const t = toy();
    t.since = new Date(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(t.environ.HTTP_IF_MODIFIED_SINCE).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(t.since).toBe(t.since);
    t.since = null;
    expect('HTTP_IF_MODIFIED_SINCE' in t.environ).toBe(false);
    expect(t.since).toBeNull();
  });

  it('liveField writes back through commit and keeps the same object cached', () => {
    const t = toy();
    const counter = t.counter;
    counter.bump();
    counter.bump();
    expect(t.environ.HTTP_X_COUNT).toBe('2');
    expect(t.counter).toBe(counter);
    t.environ.HTTP_X_COUNT = '7';
    expect(t.counter).not.toBe(counter);
    expect(t.counter.raw).toBe('7');
  });

  it('caches per instance: two wrappers of one environ do not share parsed objects', () => {
    const environ = toy({ HTTP_X_TAGS: 'a' }).environ;
    expect(new Toy(environ).tags).not.toBe(new Toy(environ).tags);
  });
});

describe('fromHeaders', () => {
  const holder = (list: Array<[string, string]>) => ({ headers: new HeaderList(list) });

  it('reads the first field, or every field joined with `all`', () => {
    const h = holder([
      ['Vary', 'Accept'],
      ['vary', 'Cookie'],
    ]);
    expect(fromHeaders('Vary').read(h)).toBe('Accept');
    expect(fromHeaders('Vary', { all: true }).read(h)).toBe('Accept, Cookie');
    expect(fromHeaders('ETag', { all: true }).read(h)).toBeNull();
  });

  it('writes one field under the given name; null deletes every field', () => {
    const h = holder([
      ['vary', 'Accept'],
      ['Vary', 'Cookie'],
    ]);
    const source = fromHeaders('Vary');
    source.write(h, 'Origin');
    expect(h.headers.list).toEqual([['Vary', 'Origin']]);
    source.write(h, null);
    expect(h.headers.list).toEqual([]);
  });
});

describe('converters', () => {
  it('list trims, drops empty elements, and formats iterables', () => {
    expect(list.parse(null)).toEqual([]);
    expect(list.parse(' a ,, b,')).toEqual(['a', 'b']);
    expect(list.format(new Set(['a', 'b']))).toBe('a, b');
    expect(list.format('a,b')).toBe('a,b');
    expect(list.format(null)).toBeNull();
  });

  it('byteCount reads digits only and refuses invalid values', () => {
    const count = byteCount(/^\d{1,15}$/);
    expect(count.parse('12')).toBe(12);
    expect(count.parse('1e3')).toBeNull();
    expect(count.parse('1234567890123456')).toBeNull();
    expect(count.format(0)).toBe('0');
    expect(() => count.format(-1)).toThrow(TypeError);
    expect(() => count.format(1.5)).toThrow(TypeError);
  });

  it('httpDate refuses a string that is not an HTTP-date', () => {
    expect(httpDate.format('Sun, 06 Nov 1994 08:49:37 GMT')).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(() => httpDate.format('yesterday')).toThrow(TypeError);
    expect(() => httpDate.format(Number.NaN)).toThrow(RangeError);
  });

  it('etag formats every accepted shape', () => {
    expect(etag.format('abc')).toBe('"abc"');
    expect(etag.format({ tag: 'abc', weak: true })).toBe('W/"abc"');
    expect(etag.format({ value: 'abc' })).toBe('"abc"');
    expect(etag.parse('garbage "')).toBeNull();
  });

  it('mediaTypeOf answers one frozen object per value, never throwing', () => {
    const a = mediaTypeOf('Text/HTML; Charset=UTF-8');
    expect(a).toEqual({ type: 'text/html', parameters: expect.objectContaining({ charset: 'UTF-8' }) });
    expect(mediaTypeOf('Text/HTML; Charset=UTF-8')).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.parameters)).toBe(true);
    expect(mediaTypeOf('text/plain; ;;')).toMatchObject({ type: 'text/plain' });
    expect(mediaTypeOf(undefined).type).toBe('');
  });
});

describe('Request and Response are declared with descriptors', () => {
  it('keep their attributes on the prototype, never as own properties', () => {
    const req = Request.blank('/a?b=1', { headers: { Accept: 'text/html', Cookie: 'c=1' } });
    const res = new Response('hi');
    // touch cached attributes: their caches must not appear as string-keyed properties
    void [req.accept, req.query, req.cookies, req.headers, res.cacheControl];
    expect(Object.keys(req)).toEqual(['environ']);
    expect(Object.keys(res)).toEqual(['headers', 'conditionalResponse']);
    expect(Object.getOwnPropertySymbols(req)).toEqual([]);
    expect(inspect(req)).toMatch(/^Request \{\s+environ: /);
    expect(inspect(req)).not.toContain('Symbol');
    expect(inspect(res)).not.toContain('Symbol');
    for (const name of ['method', 'pathInfo', 'host', 'query', 'accept', 'ifNoneMatch', 'contentLength', 'json', 'getResponse']) {
      expect(Object.getOwnPropertyDescriptor(Request.prototype, name), name).toBeDefined();
      expect(Object.hasOwn(req, name), name).toBe(false);
    }
    for (const name of ['contentType', 'charset', 'text', 'etag', 'lastModified', 'vary', 'cacheControl', 'setCookie', 'respond']) {
      expect(Object.getOwnPropertyDescriptor(Response.prototype, name), name).toBeDefined();
      expect(Object.hasOwn(res, name), name).toBe(false);
    }
  });

  it('lets a subclass override an installed accessor', () => {
    class Mounted extends Request {
      override get pathInfo(): string {
        return `/mounted${super.pathInfo}`;
      }
    }
    const req = new Mounted(Request.blank('/x').environ);
    expect(req.pathInfo).toBe('/mounted/x');
    expect(req.path).toBe('/mounted/x');
  });

  it('caches parsed headers per instance and re-parses when the environ changes', () => {
    const req = Request.blank('/', { headers: { 'If-None-Match': '"a"' } });
    const tags = req.ifNoneMatch;
    expect(req.ifNoneMatch).toBe(tags);
    req.environ.HTTP_IF_NONE_MATCH = '"b"';
    expect(req.ifNoneMatch).not.toBe(tags);
    expect(req.ifNoneMatch.contains('"b"')).toBe(true);
  });
});
