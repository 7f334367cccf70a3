/**
 * Authorization and WWW-Authenticate (src/http/authorization.ts, www-authenticate.ts):
 * Basic (RFC 7617), Bearer (RFC 6750), auth-params (RFC 9110 §11.2), challenge building and
 * parsing, hostile values, and round trips.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Response } from 'tsgi';
import { basicAuthorization, bearerAuthorization, formatAuthorization, formatChallenge, formatWwwAuthenticate, parseAuthorization, parseWwwAuthenticate } from 'tsgi/http';

const b64 = (s: string, encoding: BufferEncoding = 'utf8') => Buffer.from(s, encoding).toString('base64');

describe('parseAuthorization: Basic', () => {
  it('decodes the RFC 7617 example', () => {
    expect(parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toEqual({
      scheme: 'basic',
      token68: 'QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
      params: {},
      username: 'Aladdin',
      password: 'open sesame',
    });
  });

  it('UTF-8 user and password; the password may contain ":"; empty parts allowed', () => {
    expect(parseAuthorization(`Basic ${b64('test:123£')}`)).toMatchObject({ username: 'test', password: '123£' });
    expect(parseAuthorization(`basic ${b64('Jürgen:a:b:c')}`)).toMatchObject({ username: 'Jürgen', password: 'a:b:c' });
    expect(parseAuthorization(`BASIC ${b64(':')}`)).toMatchObject({ username: '', password: '' });
  });

  it('falls back to ISO-8859-1 when the bytes are not UTF-8', () => {
    expect(parseAuthorization(`Basic ${b64('J\u00fcrgen:p\u00e4ss', 'latin1')}`)).toMatchObject({
      username: 'Jürgen',
      password: 'päss',
    });
  });

  it('padding is optional, surrounding and separating whitespace tolerated', () => {
    expect(parseAuthorization('  Basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ  ')).toMatchObject({ username: 'Aladdin' });
    expect(parseAuthorization('Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toMatchObject({ username: 'Aladdin' });
  });

  it.each([
    ['Basic', 'no credentials'],
    ['Basic ', 'no credentials'],
    [`Basic ${b64('nocolon')}`, 'no colon'],
    ['Basic !!!!', 'not base64'],
    ['Basic QWxh ZGRp', 'space inside'],
    ['Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ===', 'too much padding'],
    ['Basic Q', 'impossible length'],
    ['Basic QWxh-ZGRp', 'base64url'],
    [`Basic ${b64('user\n:pw')}`, 'control character in user'],
    [`Basic ${b64('user:p\u0000w')}`, 'NUL in password'],
    ['Basic realm="x"', 'params instead of token68'],
    [`Basic ${b64('a:b')}, Basic ${b64('c:d')}`, 'two headers joined'],
  ])('%j → null (%s)', (value) => {
    expect(parseAuthorization(value)).toBeNull();
  });
});

describe('parseAuthorization: Bearer and others', () => {
  it('Bearer token68', () => {
    expect(parseAuthorization('Bearer mF_9.B5f-4.1JqM')).toEqual({
      scheme: 'bearer',
      token68: 'mF_9.B5f-4.1JqM',
      params: {},
      token: 'mF_9.B5f-4.1JqM',
    });
    expect(parseAuthorization('bearer abc/def+ghi~==')?.token).toBe('abc/def+ghi~==');
  });

  it.each(['Bearer', 'Bearer a b', 'Bearer a=b', 'Bearer "quoted"', 'Bearer ab=c', 'Bearer a,b'])('%j → null', (value) => {
    expect(parseAuthorization(value)).toBeNull();
  });

  it('auth-params with quoted strings and escapes (RFC 9110 §11.2)', () => {
    const digest = parseAuthorization(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, ' +
        'nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
        'Note="a \\"quoted\\" \\\\ value"',
    );
    expect(digest?.scheme).toBe('digest');
    expect(digest?.token68).toBeNull();
    expect(digest?.params).toMatchObject({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      algorithm: 'SHA-256',
      qop: 'auth',
      note: 'a "quoted" \\ value',
    });
  });

  it('a word after the scheme without "=" is a token68; a scheme glued to its credentials is one scheme', () => {
    expect(parseAuthorization('Digest username')).toEqual({ scheme: 'digest', token68: 'username', params: {} });
    expect(parseAuthorization('Digest username=')).toEqual({ scheme: 'digest', token68: 'username=', params: {} });
    expect(parseAuthorization(`Basic${b64('a:b')}`)).toEqual({ scheme: 'basicytpi', token68: null, params: {} });
    expect(parseWwwAuthenticate('Basic realm')).toEqual([{ scheme: 'basic', token68: 'realm', params: {} }]);
  });

  it('BWS around "=", empty list elements, scheme alone, token68 for other schemes', () => {
    expect(parseAuthorization('Custom a = 1 ,, b="2",')?.params).toEqual({ a: '1', b: '2' });
    expect(parseAuthorization('Negotiate')).toEqual({ scheme: 'negotiate', token68: null, params: {} });
    expect(parseAuthorization('Negotiate YIIB==')).toEqual({ scheme: 'negotiate', token68: 'YIIB==', params: {} });
  });

  it.each([
    [null],
    [undefined],
    [''],
    ['   '],
    ['"quoted scheme"'],
    ['Digest a=1 b=2'],
    ['Digest a="unterminated'],
    ['Digest a=1, a=2'],
    ['Digest a=1, A=2'],
    ['Digest a="x\u0001y"'],
    ['Digest ,'],
    ['Digest a=1;b=2'],
    ['Sch\u00e9me abc'],
  ])('%j → null', (value) => {
    expect(parseAuthorization(value)).toBeNull();
  });

  it('overlong hostile values stay linear', () => {
    expect(parseAuthorization(`Basic ${'A'.repeat(400_000)}`)).toBeNull();
    expect(parseAuthorization(`Digest a="${'\\"'.repeat(100_000)}`)).toBeNull();
    expect(Object.keys(parseAuthorization(`X ${Array.from({ length: 5000 }, (_, i) => `p${i}=v`).join(', ')}`)!.params)).toHaveLength(5000);
  });

  it('__proto__ is an ordinary parameter name', () => {
    const auth = parseAuthorization('X __proto__="polluted", a=1');
    expect(auth?.params['__proto__']).toBe('polluted');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `Basic ${s}`), fc.string().map((s) => `Digest ${s}`)), (value) => {
        parseAuthorization(value);
        parseWwwAuthenticate(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe('building Authorization', () => {
  it('basicAuthorization encodes UTF-8 and round-trips', () => {
    expect(basicAuthorization('Aladdin', 'open sesame')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    const text = fc.string({ unit: 'grapheme' }).filter((s) => !/[\x00-\x1f\x7f]/.test(s));
    fc.assert(
      fc.property(text.filter((s) => !s.includes(':')), text, (username, password) => {
        expect(parseAuthorization(basicAuthorization(username, password))).toMatchObject({ username, password });
      }),
    );
  });

  it('basicAuthorization refuses ":" in the user-id and control characters', () => {
    expect(() => basicAuthorization('a:b', 'x')).toThrow(TypeError);
    expect(() => basicAuthorization('a', 'x\r\n')).toThrow(TypeError);
  });

  it('bearerAuthorization validates token68', () => {
    expect(bearerAuthorization('abc.def')).toBe('Bearer abc.def');
    expect(() => bearerAuthorization('has space')).toThrow(TypeError);
    expect(() => bearerAuthorization('')).toThrow(TypeError);
  });

  it('formatAuthorization writes Digest qop and nc as tokens, formatChallenge qop quoted (RFC 7616 §3.3, §3.4)', () => {
    // RFC 7616 §3.9.1's credentials, in its own spelling: a sender MUST NOT quote algorithm, qop or nc.
    const params = {
      username: 'Mufasa', realm: 'http-auth@example.org', uri: '/dir/index.html', algorithm: 'MD5',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', nc: '00000001', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth', response: '8ca523f5e9506fed4657c9700eebdbec', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    };
    expect(formatAuthorization({ scheme: 'Digest', params })).toBe(
      'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, ' +
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", ' +
        'qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    expect(parseAuthorization(formatAuthorization({ scheme: 'Digest', params }))?.params).toEqual(params);
    // In a challenge qop is a quoted list (a sender MUST quote it there), stale and algorithm tokens.
    expect(formatChallenge({ scheme: 'Digest', params: { realm: 'r', qop: 'auth', algorithm: 'SHA-256', stale: 'true' } })).toBe(
      'Digest realm="r", qop="auth", algorithm=SHA-256, stale=true',
    );
  });

  it('formatAuthorization with params round-trips', () => {
    expect(formatAuthorization({ scheme: 'Digest', params: { username: 'Mufasa', algorithm: 'MD5', stale: 'false' } })).toBe(
      'Digest username="Mufasa", algorithm=MD5, stale=false',
    );
    expect(formatAuthorization({ scheme: 'Negotiate' })).toBe('Negotiate');
    expect(() => formatAuthorization({ scheme: 'X', token68: 'a', params: { b: 'c' } })).toThrow(TypeError);
    expect(() => formatAuthorization({ scheme: 'bad scheme' })).toThrow(TypeError);
    expect(() => formatAuthorization({ scheme: 'X', params: { 'bad name': 'c' } })).toThrow(TypeError);
  });
});

describe('WWW-Authenticate', () => {
  it('formats several challenges with realm quoted', () => {
    expect(
      formatWwwAuthenticate([
        { scheme: 'Basic', params: { realm: 'Staff "only"', charset: 'UTF-8' } },
        { scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token', error_description: 'The token expired' } },
      ]),
    ).toBe(
      'Basic realm="Staff \\"only\\"", charset="UTF-8", ' +
        'Bearer realm="api", error="invalid_token", error_description="The token expired"',
    );
    expect(formatWwwAuthenticate({ scheme: 'Negotiate' })).toBe('Negotiate');
    expect(formatChallenge({ scheme: 'Newauth', token68: 'abc==' })).toBe('Newauth abc==');
  });

  it.each([
    [{ scheme: 'Basic', params: { realm: 'line\r\nbreak' } }],
    [{ scheme: 'Basic', params: { realm: 'emoji \u{1f600}' } }],
    [{ scheme: 'Ba sic' }],
    [{ scheme: 'X', token68: 'not token68!' }],
  ])('refuses %j', (challenge) => {
    expect(() => formatChallenge(challenge)).toThrow(TypeError);
  });

  it('refuses an empty list', () => {
    expect(() => formatWwwAuthenticate([])).toThrow(TypeError);
  });

  it('parses the RFC 9110 §11.6.1 example', () => {
    expect(parseWwwAuthenticate('Basic realm="simple", Newauth realm="apps", type=1, title="Login to \\"apps\\""')).toEqual([
      { scheme: 'basic', token68: null, params: { realm: 'simple' } },
      { scheme: 'newauth', token68: null, params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    ]);
  });

  it('parses bare schemes, token68 and empty elements; two lines joined', () => {
    expect(parseWwwAuthenticate(' , Negotiate, NTLM abc==,, Basic realm=x ,')).toEqual([
      { scheme: 'negotiate', token68: null, params: {} },
      { scheme: 'ntlm', token68: 'abc==', params: {} },
      { scheme: 'basic', token68: null, params: { realm: 'x' } },
    ]);
  });

  it.each([null, '', ' , ', 'Basic realm=x y', 'Basic realm="x" junk', 'Basic a=1, a=2', 'Basic realm="x', '"x"', 'Basic  =x'])(
    '%j → null',
    (value) => {
      expect(parseWwwAuthenticate(value)).toBeNull();
    },
  );

  it('property: format → parse round trip', () => {
    const scheme = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,8}$/);
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
    const value = fc.string({ maxLength: 12 }).filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s));
    const params = fc.dictionary(name, value, { maxKeys: 4 });
    const challenge = fc.oneof(
      fc.record({ scheme, params }),
      fc.record({ scheme, token68: fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,10}=*$/) }),
    );
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (challenges) => {
        const parsed = parseWwwAuthenticate(formatWwwAuthenticate(challenges));
        expect(parsed).toEqual(
          challenges.map((c) => ({
            scheme: c.scheme.toLowerCase(),
            token68: 'token68' in c ? c.token68 : null,
            params: 'params' in c ? c.params : {},
          })),
        );
        if (challenges.length === 1) {
          const one = challenges[0]!;
          const auth = parseAuthorization(formatAuthorization(one));
          if (!['basic', 'bearer'].includes(one.scheme.toLowerCase())) {
            expect(auth).toEqual(parsed![0]);
          }
        }
      }),
    );
  });
});

describe("a response's several WWW-Authenticate and Proxy-Authenticate lines (RFC 9110 §5.3: a quoted-string cannot span lines)", () => {
  const BEARER = { scheme: 'bearer', token68: null, params: { realm: 'api' } };

  it('a malformed line loses only its own challenges: res.wwwAuthenticate, res.proxyAuthenticate', () => {
    const lines = (name: string): Array<[string, string]> => [
      [name, 'Basic realm="Staff'],
      [name, 'Bearer realm="api"'],
      [name, 'Basic a=1, a=2'],
    ];
    expect(new Response('x', { status: 401, headers: lines('WWW-Authenticate') }).wwwAuthenticate).toEqual([BEARER]);
    expect(new Response('x', { status: 407, headers: lines('Proxy-Authenticate') }).proxyAuthenticate).toEqual([BEARER]);
    const none = new Response('x', { status: 401, headers: [['WWW-Authenticate', 'Basic realm="a'], ['WWW-Authenticate', '"x"']] });
    expect(none.wwwAuthenticate).toBeNull();
  });

  it('valid lines read as one list, in order, a comma inside a quoted-string kept', () => {
    const res = new Response('x', {
      status: 401,
      headers: [['WWW-Authenticate', 'Negotiate, Basic realm="a, b"'], ['WWW-Authenticate', 'Bearer realm="api"']],
    });
    expect(res.wwwAuthenticate).toEqual([
      { scheme: 'negotiate', token68: null, params: {} },
      { scheme: 'basic', token68: null, params: { realm: 'a, b' } },
      BEARER,
    ]);
  });
});

describe('a parameter value that is not a string (from JavaScript)', () => {
  it.each([
    ['nc', 1],
    ['cnonce', 42],
    ['stale', true],
    ['realm', null],
    ['opaque', undefined],
    ['qop', ['auth']],
  ])('formatAuthorization and formatChallenge refuse %s: %j, naming it', (name, value) => {
    const params = { username: 'Mufasa', [name]: value } as unknown as Record<string, string>;
    const message = new RegExp(`auth-param "${name}" must be a string, got `);
    expect(() => formatAuthorization({ scheme: 'Digest', params })).toThrow(TypeError);
    expect(() => formatAuthorization({ scheme: 'Digest', params })).toThrow(message);
    expect(() => formatChallenge({ scheme: 'Digest', params })).toThrow(message);
    expect(() => formatWwwAuthenticate([{ scheme: 'Basic', params: { realm: 'x' } }, { scheme: 'Digest', params }])).toThrow(message);
  });

  it('res.wwwAuthenticate refuses it the same way', () => {
    const res = new Response('x', { status: 401 });
    expect(() => {
      res.wwwAuthenticate = { scheme: 'Digest', params: { realm: 'api', stale: false as unknown as string } };
    }).toThrow(/auth-param "stale" must be a string, got false/);
    expect(res.headers.has('www-authenticate')).toBe(false);
  });
});

describe('an auth-param name given twice in other case (RFC 9110 §11.2: once per challenge)', () => {
  it('formatChallenge, formatWwwAuthenticate, formatAuthorization and res.wwwAuthenticate refuse it, naming it, instead of a value their parse reads as malformed', () => {
    const params = { realm: 'staff', Realm: 'admin' };
    const message = /auth-param "Realm" is given twice/;
    expect(() => formatChallenge({ scheme: 'Basic', params })).toThrow(TypeError);
    expect(() => formatChallenge({ scheme: 'Basic', params })).toThrow(message);
    expect(() => formatWwwAuthenticate([{ scheme: 'Bearer' }, { scheme: 'Basic', params }])).toThrow(message);
    expect(() => formatAuthorization({ scheme: 'Digest', params: { username: 'a', USERNAME: 'b' } })).toThrow(/auth-param "USERNAME" is given twice/);
    const res = new Response('x', { status: 401 });
    expect(() => {
      res.wwwAuthenticate = { scheme: 'Basic', params };
    }).toThrow(message);
    expect(res.headers.has('www-authenticate')).toBe(false);
    // The same name in two challenges is two parameters, one each.
    expect(parseWwwAuthenticate(formatWwwAuthenticate([{ scheme: 'Basic', params: { realm: 'a' } }, { scheme: 'Bearer', params: { Realm: 'b' } }]))).toHaveLength(2);
  });
});

describe('basicAuthorization and bearerAuthorization given no string (from JavaScript)', () => {
  it.each([
    ['password', ['aladdin', undefined]],
    ['password', ['aladdin', null]],
    ['password', ['aladdin', 1234]],
    ['username', [undefined, 'open sesame']],
    ['username', [null, 'open sesame']],
    ['username', [42, 'open sesame']],
  ])('basicAuthorization refuses a %s of %j, naming it', (argument, args) => {
    const [username, password] = args as [string, string];
    expect(() => basicAuthorization(username, password)).toThrow(TypeError);
    expect(() => basicAuthorization(username, password)).toThrow(new RegExp(`^basicAuthorization: the ${argument} must be a string, got `));
  });

  it.each([[undefined], [null], [123]])('bearerAuthorization refuses a token of %j, naming it', (token) => {
    expect(() => bearerAuthorization(token as unknown as string)).toThrow(/^bearerAuthorization: the token must be a string, got /);
  });

  it('an empty password is still one', () => {
    expect(basicAuthorization('aladdin', '')).toBe(`Basic ${b64('aladdin:')}`);
  });
});
