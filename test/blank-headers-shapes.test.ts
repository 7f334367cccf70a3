/**
 * `Request.blank(path, { headers })` takes the shapes `HeaderList` and the `TestClient` take
 * (`HeaderListInit`): a finite number, a list of values for a repeated field, `undefined` or
 * `null` for none. It threw `invalid value for header Content-Length: 5` for a number (a fine
 * value), `…: ["1","2"]` for a list, and `…: undefined` for a field left out.
 */
import { describe, expect, it } from 'vitest';
import { HeaderList, Request } from 'tsgi';

describe('Request.blank headers', () => {
  it('takes numbers, lists and left-out fields, as HeaderList does', () => {
    const req = Request.blank('/', { headers: { 'Content-Length': 0, Accept: ['text/html', 'application/json'], Cookie: ['a=1', 'b=2'], 'X-Skipped': undefined, 'X-Null': null } });
    expect(req.environ.CONTENT_LENGTH).toBe('0');
    expect(req.headers.get('accept')).toBe('text/html, application/json');
    expect(req.cookies).toEqual({ a: '1', b: '2' });
    expect([req.headers.has('x-skipped'), req.headers.has('x-null')]).toEqual([false, false]);
  });

  it('takes a HeaderList and pairs, joining a repeated name', () => {
    const list = new HeaderList([['X-A', '1']]).add('x-a', 2);
    expect(Request.blank('/', { headers: list }).headers.get('X-A')).toBe('1, 2');
    expect(Request.blank('/', { headers: [['X-A', '1'], ['X-A', 2]] }).headers.get('X-A')).toBe('1, 2');
  });

  it('still refuses an invalid name or value, or another type, naming the field', () => {
    expect(() => Request.blank('/', { headers: { 'X-A': 'a\r\nb' } })).toThrow(/^invalid value for header X-A: /);
    expect(() => Request.blank('/', { headers: { 'X A': 'a' } })).toThrow(/^invalid header name: /);
    expect(() => Request.blank('/', { headers: { 'X-A': {} as never } })).toThrow(/^invalid value for header X-A: .* \(a string or a number\)$/);
  });
});
