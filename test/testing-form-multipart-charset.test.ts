/**
 * tsgi/testing submits a multipart form from a legacy page in the page's encoding, as browsers
 * do (HTML "multipart/form-data encoding algorithm": names, values and filenames encoded in the
 * encoding picked for the form), and its hidden `_charset_` field names that encoding: the
 * app's `req.form()` reads `東京` back, where a UTF-8 body that says `_charset_=Shift_JIS` read
 * as mojibake.
 */
import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const page = (form: string) => iconv.encode(`<!doctype html><meta charset="shift_jis"><title>t</title>${form}`, 'shift_jis');

const app = Request.application(async (req) => {
  if (req.method === 'GET') return new Response(page(req.query.get('form') ?? ''), { contentType: 'text/html', charset: 'shift_jis' });
  const body = Buffer.from(await req.bytes());
  const form = await req.form();
  const files = await req.files();
  return Response.json({ sjis: body.includes(iconv.encode('東京', 'shift_jis')), form: [...form.entries()], files: [...files.entries()].map(([name, file]) => [name, file.filename]) });
});

describe('a multipart form from a Shift_JIS page', () => {
  it('sends its text fields in Shift_JIS, which _charset_ names, and req.form() reads them back', async () => {
    const form = '<form method="post" enctype="multipart/form-data" action="/s"><input type="hidden" name="_charset_"><input name="city"><textarea name="note"></textarea></form>';
    const res = await (await new TestClient(app).get(`/?form=${encodeURIComponent(form)}`)).form().set('city', '東京').set('note', 'é ✓').submit();
    expect(await res.json()).toEqual({
      sjis: true,
      form: [
        ['_charset_', 'Shift_JIS'],
        ['city', '東京'],
        // `é` and `✓` are not in Shift_JIS: numeric character references, as a browser writes them.
        ['note', '&#233; &#10003;'],
      ],
      files: [],
    });
  });

  it('writes its field names and filenames in Shift_JIS too, and req.form() and req.files() read them back', async () => {
    // 表 is 0x95 0x5C in Shift_JIS: a backslash byte inside the quoted filename, as a browser writes it.
    const form =
      '<form method="post" enctype="multipart/form-data" action="/s"><input type="hidden" name="_charset_"><input name="都市"><input type="file" name="添付"><input type="file" name="表"></form>';
    const res = await (await new TestClient(app).get(`/?form=${encodeURIComponent(form)}`))
      .form()
      .set('都市', '東京')
      .upload('添付', { filename: '東京.txt', content: 'a' })
      .upload('表', { filename: '表.txt', content: 'b' })
      .submit();
    expect(await res.json()).toEqual({
      sjis: true,
      form: [
        ['_charset_', 'Shift_JIS'],
        ['都市', '東京'],
      ],
      files: [
        ['添付', '東京.txt'],
        ['表', '表.txt'],
      ],
    });
  });

  it('keeps a UTF-8 page’s multipart form in UTF-8', async () => {
    const utf8 = Request.application(async (req) => {
      if (req.method === 'GET') return new Response('<form method="post" enctype="multipart/form-data"><input type="hidden" name="_charset_"><input name="city"></form>', { contentType: 'text/html' });
      return Response.json([...(await req.form()).entries()]);
    });
    const res = await (await new TestClient(utf8).get('/')).form().set('city', '東京 é').submit();
    expect(await res.json()).toEqual([
      ['_charset_', 'UTF-8'],
      ['city', '東京 é'],
    ]);
  });
});
