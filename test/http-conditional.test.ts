/**
 * Precondition evaluation (src/http/conditional.ts): RFC 9110 §13.2.2 order of precedence,
 * the ignore rules of §13.2.1, If-Range / Range applicability, and the 304 header filter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePreconditions, notModifiedHeaders } from 'tsgi/http';

const LM = 'Mon, 01 Jan 2024 12:00:00 GMT';
const BEFORE = 'Sun, 31 Dec 2023 12:00:00 GMT';
const AFTER = 'Tue, 02 Jan 2024 12:00:00 GMT';
const resource = { status: 200, etag: '"v1"', lastModified: new Date(Date.parse(LM) + 300) };

describe('evaluatePreconditions', () => {
  it('no preconditions: proceed, no range', () => {
    expect(evaluatePreconditions({ method: 'GET' }, resource)).toEqual({ outcome: 'proceed', status: 200, range: false });
    expect(evaluatePreconditions({ method: 'GET' })).toEqual({ outcome: 'proceed', status: 200, range: false });
  });

  describe('If-Match (step 1)', () => {
    it.each([
      ['"v1"', 'proceed'],
      ['"v0", "v1"', 'proceed'],
      ['*', 'proceed'],
      ['"v2"', 'precondition-failed'],
      ['W/"v1"', 'precondition-failed'],
      ['garbage"', 'precondition-failed'],
      [' , ', 'precondition-failed'],
    ])('If-Match: %s → %s', (ifMatch, outcome) => {
      const result = evaluatePreconditions({ method: 'PUT', ifMatch }, resource);
      expect(result.outcome).toBe(outcome);
      if (outcome !== 'proceed') expect(result).toMatchObject({ status: 412, decidedBy: 'if-match' });
    });

    it('a weak current ETag never matches If-Match', () => {
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '"v1"' }, { etag: 'W/"v1"' }).status).toBe(412);
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '"v1"' }, {}).status).toBe(412);
    });

    it('* fails when no representation exists', () => {
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '*' }, { exists: false }).status).toBe(412);
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '*' }, { etag: null }).status).toBe(200);
    });

    it('takes precedence over If-Unmodified-Since, which is then not evaluated', () => {
      const result = evaluatePreconditions({ method: 'PUT', ifMatch: '"v1"', ifUnmodifiedSince: BEFORE }, resource);
      expect(result.outcome).toBe('proceed');
    });
  });

  describe('If-Unmodified-Since (step 2)', () => {
    it.each([
      [AFTER, 'proceed'],
      [LM, 'proceed'],
      [BEFORE, 'precondition-failed'],
      ['garbage', 'proceed'],
      [`${BEFORE}, ${BEFORE}`, 'proceed'],
    ])('If-Unmodified-Since: %s → %s', (ifUnmodifiedSince, outcome) => {
      expect(evaluatePreconditions({ method: 'DELETE', ifUnmodifiedSince }, resource).outcome).toBe(outcome);
    });

    it('is ignored without a Last-Modified', () => {
      expect(evaluatePreconditions({ method: 'DELETE', ifUnmodifiedSince: BEFORE }, { etag: '"v1"' }).outcome).toBe('proceed');
    });
  });

  describe('If-None-Match (step 3)', () => {
    it.each([
      ['GET', '"v1"', 304],
      ['HEAD', '"v1"', 304],
      ['GET', 'W/"v1"', 304],
      ['GET', '"v0", W/"v1"', 304],
      ['GET', '*', 304],
      ['GET', '"v2"', 200],
      ['GET', '"v1', 200],
      ['POST', '"v1"', 412],
      ['PUT', '*', 412],
    ])('%s with If-None-Match: %s → %d', (method, ifNoneMatch, status) => {
      expect(evaluatePreconditions({ method, ifNoneMatch }, resource).status).toBe(status);
    });

    it('weak current ETag matches weakly', () => {
      expect(evaluatePreconditions({ method: 'GET', ifNoneMatch: '"v1"' }, { etag: 'W/"v1"' }).status).toBe(304);
    });

    it('* lets a create proceed when nothing exists', () => {
      expect(evaluatePreconditions({ method: 'PUT', ifNoneMatch: '*' }, { exists: false }).outcome).toBe('proceed');
    });

    it('takes precedence over If-Modified-Since', () => {
      const changed = evaluatePreconditions({ method: 'GET', ifNoneMatch: '"v2"', ifModifiedSince: AFTER }, resource);
      expect(changed.status).toBe(200);
      const same = evaluatePreconditions({ method: 'GET', ifNoneMatch: '"v1"', ifModifiedSince: BEFORE }, resource);
      expect(same).toMatchObject({ status: 304, decidedBy: 'if-none-match' });
    });

    it('is evaluated after a passing If-Match', () => {
      const result = evaluatePreconditions({ method: 'GET', ifMatch: '"v1"', ifNoneMatch: '"v1"' }, resource);
      expect(result).toMatchObject({ status: 304, decidedBy: 'if-none-match' });
    });
  });

  describe('If-Modified-Since (step 4)', () => {
    it.each([
      ['GET', LM, 304],
      ['GET', AFTER, 304],
      ['GET', BEFORE, 200],
      ['HEAD', LM, 304],
      ['POST', LM, 200],
      ['GET', 'garbage', 200],
      ['GET', `${LM}, ${LM}`, 200],
    ])('%s with If-Modified-Since: %s → %d', (method, ifModifiedSince, status) => {
      expect(evaluatePreconditions({ method, ifModifiedSince }, resource).status).toBe(status);
    });

    it('compares at one-second resolution (sub-second Last-Modified is not newer)', () => {
      expect(evaluatePreconditions({ method: 'GET', ifModifiedSince: LM }, { lastModified: new Date(Date.parse(LM) + 999) }).status).toBe(304);
      expect(evaluatePreconditions({ method: 'GET', ifModifiedSince: LM }, { lastModified: new Date(Date.parse(LM) + 1000) }).status).toBe(200);
    });

    it('accepts Last-Modified as a header string, ignores it when unparsable', () => {
      expect(evaluatePreconditions({ method: 'GET', ifModifiedSince: LM }, { lastModified: LM }).status).toBe(304);
      expect(evaluatePreconditions({ method: 'GET', ifModifiedSince: LM }, { lastModified: 'nope' }).status).toBe(200);
      expect(evaluatePreconditions({ method: 'GET', ifModifiedSince: LM }, { lastModified: new Date(NaN) }).status).toBe(200);
    });
  });

  describe('ignored preconditions (§13.2.1)', () => {
    it.each([404, 500, 301, 304])('planned status %d: proceed with that status', (status) => {
      const result = evaluatePreconditions({ method: 'GET', ifMatch: '"nope"', ifNoneMatch: '*' }, { ...resource, status });
      expect(result).toEqual({ outcome: 'proceed', status, range: false });
    });

    it('412 and other 2xx statuses are evaluated', () => {
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '"x"' }, { ...resource, status: 204 }).status).toBe(412);
      expect(evaluatePreconditions({ method: 'PUT', ifMatch: '"x"' }, { ...resource, status: 412 }).status).toBe(412);
    });

    it.each(['OPTIONS', 'CONNECT', 'TRACE'])('%s ignores preconditions', (method) => {
      expect(evaluatePreconditions({ method, ifMatch: '"nope"' }, resource).outcome).toBe('proceed');
    });
  });

  describe('Range (step 5)', () => {
    it('applies to GET on a 200 when sent', () => {
      expect(evaluatePreconditions({ method: 'GET', range: 'bytes=0-1' }, resource).range).toBe(true);
      expect(evaluatePreconditions({ method: 'GET', range: '' }, resource).range).toBe(false);
      expect(evaluatePreconditions({ method: 'HEAD', range: 'bytes=0-1' }, resource).range).toBe(false);
      expect(evaluatePreconditions({ method: 'POST', range: 'bytes=0-1' }, resource).range).toBe(false);
      expect(evaluatePreconditions({ method: 'GET', range: 'bytes=0-1' }, { ...resource, status: 203 }).range).toBe(false);
    });

    it('honours If-Range', () => {
      const range = 'bytes=0-1';
      expect(evaluatePreconditions({ method: 'GET', range, ifRange: '"v1"' }, resource).range).toBe(true);
      expect(evaluatePreconditions({ method: 'GET', range, ifRange: '"v0"' }, resource).range).toBe(false);
      expect(evaluatePreconditions({ method: 'GET', range, ifRange: 'W/"v1"' }, resource).range).toBe(false);
      expect(evaluatePreconditions({ method: 'GET', range, ifRange: LM }, resource).range).toBe(true);
      expect(evaluatePreconditions({ method: 'GET', range, ifRange: BEFORE }, resource).range).toBe(false);
    });

    it('never applies to a 304 or 412', () => {
      const result = evaluatePreconditions({ method: 'GET', range: 'bytes=0-1', ifNoneMatch: '"v1"' }, resource);
      expect(result).toMatchObject({ status: 304, range: false });
    });
  });

  it('property: never throws; the outcome fits the status', () => {
    const header = fc.option(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('*', '"v1"', 'W/"v1"', LM, BEFORE, AFTER)), { nil: undefined });
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'get'),
        header,
        header,
        header,
        header,
        header,
        header,
        fc.constantFrom(200, 201, 204, 404, 412, 500),
        (method, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince, ifRange, range, status) => {
          const result = evaluatePreconditions(
            { method, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince, ifRange, range },
            { ...resource, status },
          );
          const expected = { proceed: status, 'not-modified': 304, 'precondition-failed': 412 }[result.outcome];
          expect(result.status).toBe(expected);
          if (result.outcome === 'not-modified') expect(['GET', 'HEAD']).toContain(method);
          if (result.range) expect(method === 'GET' && status === 200).toBe(true);
        },
      ),
    );
  });
});

describe('notModifiedHeaders', () => {
  it('drops representation headers, keeps validators and caching headers in order', () => {
    const kept = notModifiedHeaders([
      ['Content-Type', 'text/html'],
      ['ETag', '"v1"'],
      ['Content-Length', '1234'],
      ['Cache-Control', 'max-age=60'],
      ['content-encoding', 'gzip'],
      ['Vary', 'Accept-Encoding'],
      ['Last-Modified', LM],
      ['Set-Cookie', 'a=1'],
      ['Content-Range', 'bytes 0-1/2'],
    ]);
    expect(kept).toEqual([
      ['ETag', '"v1"'],
      ['Cache-Control', 'max-age=60'],
      ['Vary', 'Accept-Encoding'],
      ['Last-Modified', LM],
      ['Set-Cookie', 'a=1'],
    ]);
  });
});
