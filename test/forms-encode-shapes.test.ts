/**
 * `encodeMultipart(fields, files)` (and `encodeMultipartEntries`, `Request.blank`'s and the test
 * client's `files`) names what is wrong in a file or a field: a file without `content` failed
 * deep inside with `Cannot read properties of undefined (reading 'buffer')`, one without
 * `filename` sent `filename="undefined"`, and a field given a number was told it was a file
 * (`the files.a option is an options object`).
 */
import { describe, expect, it } from 'vitest';
import { Request } from 'tsgi';
import { encodeMultipart, encodeMultipartEntries } from 'tsgi/forms';

describe('encodeMultipart shapes', () => {
  it('refuses a file without content, naming it', () => {
    const make = () => encodeMultipart({}, { doc: { filename: 'a.txt' } as never });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(/^encodeMultipart: files\.doc\.content must be a string or a Uint8Array, not undefined$/);
    expect(() => encodeMultipartEntries([['doc', { filename: 'a.txt', content: 5 } as never]])).toThrow(/^encodeMultipartEntries: files\.doc\.content must be a string or a Uint8Array, not 5$/);
    expect(() => Request.blank('/', { method: 'POST', files: { doc: { filename: 'a.txt' } as never } })).toThrow(/files\.doc\.content must be a string or a Uint8Array/);
  });

  it('refuses a file without filename, naming it', () => {
    expect(() => encodeMultipart({}, { doc: { content: 'x' } as never })).toThrow(/^encodeMultipart: files\.doc\.filename must be a string \('' for none\), not undefined$/);
  });

  it('refuses a field that is neither text nor a file, saying what it takes', () => {
    expect(() => encodeMultipart({ n: 1 } as never)).toThrow(/^encodeMultipart: the field "n" is text \(a string\) or a file \(\{ filename, content \}\), not 1$/);
    expect(() => encodeMultipart({ n: null } as never)).toThrow(/^encodeMultipart: the field "n" is text \(a string\) or a file \(\{ filename, content \}\), not null$/);
    expect(() => encodeMultipart({ doc: { filename: 'a.txt' } } as never)).toThrow(/^encodeMultipart: files\.doc\.content must be a string or a Uint8Array, not undefined$/);
  });

  it('sends a file given among the fields as a file, in its place, as before and as Werkzeug mixes data', async () => {
    const { body, contentType } = encodeMultipart({ title: 'Hi', doc: { filename: 'a.txt', content: 'hello' } } as never);
    const req = Request.blank('/', { method: 'POST', body, headers: { 'content-type': contentType } });
    expect((await req.form()).get('title')).toBe('Hi');
    const doc = (await req.files()).get('doc');
    expect([doc?.filename, await doc?.text()]).toEqual(['a.txt', 'hello']);
  });

  it('encodes well-formed fields and files as before', async () => {
    const { body, contentType } = encodeMultipart({ title: 'Hi', tags: ['a', 'b'] }, { doc: { filename: 'a.txt', content: 'hello' }, raw: { filename: '', content: new Uint8Array([1]) } });
    const req = Request.blank('/', { method: 'POST', body, headers: { 'content-type': contentType } });
    const form = await req.form();
    expect([form.getAll('tags'), form.get('title')]).toEqual([['a', 'b'], 'Hi']);
    expect(await (await req.files()).get('doc')?.text()).toBe('hello');
  });
});
