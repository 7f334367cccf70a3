/**
 * Forms as Chromium submits them, read by tsgi: multipart names and filenames with `"`, CR, LF
 * and a backslash (HTML's multipart/form-data encoding), `_charset_` on a Shift_JIS page
 * (urlencoded and multipart), and a `<form>` written inside a `<table>`. Run with
 * `npx vitest run --config vitest.browser.config.ts test/browser/browser-forms.test.ts`.
 */
import { servedInChromium } from './chromium.ts';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';

/** What the last POST carried: its raw body (latin1), its parsed fields and files. */
let last: { raw: string; form: [string, string][]; files: [string, string, string][] } | undefined;

const SJIS_PAGE = Buffer.concat([
  Buffer.from('<!doctype html><meta charset="shift_jis"><title>sjis</title>'),
  Buffer.from('<form id="u" method="post" action="/post" accept-charset="shift_jis"><input type="hidden" name="_charset_"><input name="n' ),
  // 名 (Shift_JIS 96 BC) in the field name, 日本 (93 FA 96 7B) in the value.
  Buffer.from([0x96, 0xbc]),
  Buffer.from('" value="'),
  Buffer.from([0x93, 0xfa, 0x96, 0x7b]),
  Buffer.from('"></form><form id="m" method="post" action="/post" enctype="multipart/form-data"><input type="hidden" name="_charset_"><input name="n'),
  Buffer.from([0x96, 0xbc]),
  Buffer.from('" value="'),
  Buffer.from([0x93, 0xfa, 0x96, 0x7b]),
  Buffer.from('"></form>'),
]);

const app = Request.application(async (req) => {
  if (req.method === 'POST') {
    const raw = Buffer.from(await req.bytes()).toString('latin1');
    const form = [...(await req.form())];
    const files = [...await req.files()].map(([name, file]) => [name, file.filename, file.contentType] as [string, string, string]);
    last = { raw, form, files };
    return new Response('ok');
  }
  if (req.path === '/sjis') return new Response(SJIS_PAGE, { contentType: 'text/html; charset=shift_jis' });
  if (req.path === '/table') {
    return new Response(
      '<!doctype html><title>t</title><table><form id="f" method="post" action="/post"><tr><td><input name="inside" value="1"></td></tr><input name="direct" value="2"></form></table>',
      { contentType: 'text/html' },
    );
  }
  return new Response('<!doctype html><title>p</title><form id="f" method="post" action="/post" enctype="multipart/form-data"></form>', { contentType: 'text/html' });
});

const chromium = servedInChromium(app);

/** Opens `path`, runs `prepare` in the page, submits the form `#id` and waits for the POST. */
async function submit(path: string, id: string, prepare?: string): Promise<NonNullable<typeof last>> {
  last = undefined;
  const tab = await chromium.browser.newPage();
  try {
    await tab.goto(`${chromium.server.url}${path}`);
    if (prepare) await tab.evaluate(prepare);
    await Promise.all([tab.waitForURL(/\/post$/), tab.evaluate(`document.getElementById(${JSON.stringify(id)}).submit()`)]);
    return last!;
  } finally {
    await tab.close();
  }
}

describe('forms as Chromium submits them', () => {
  it('escapes " CR LF in multipart names and filenames as %22 %0D %0A, keeps backslashes, and tsgi reads them back', async () => {
    const seen = await submit('/', 'f', `{
      const form = document.getElementById('f');
      const text = document.createElement('input');
      text.name = 'a"b\\r\\nc\\\\d';
      text.value = 'v';
      form.append(text);
      const file = document.createElement('input');
      file.type = 'file';
      file.name = 'up';
      const transfer = new DataTransfer();
      transfer.items.add(new File(['hi'], 'x"y\\\\z.txt', { type: 'text/plain' }));
      file.files = transfer.files;
      form.append(file);
    }`);
    // The bytes: HTML's multipart/form-data encoding, a backslash left as it is.
    expect(seen.raw).toContain('Content-Disposition: form-data; name="a%22b%0D%0Ac\\d"\r\n');
    expect(seen.raw).toContain('Content-Disposition: form-data; name="up"; filename="x%22y\\z.txt"\r\n');
    // tsgi reads them back as the page named them.
    expect(seen.form).toEqual([['a"b\r\nc\\d', 'v']]);
    expect(seen.files).toEqual([['up', 'x"y\\z.txt', 'text/plain']]);
  });

  it('fills _charset_ on a Shift_JIS page and writes an urlencoded form in Shift_JIS, which tsgi decodes', async () => {
    const seen = await submit('/sjis', 'u');
    expect(seen.raw).toBe('_charset_=Shift_JIS&n%96%BC=%93%FA%96%7B');
    expect(seen.form).toEqual([['_charset_', 'Shift_JIS'], ['n名', '日本']]);
  });

  it('fills _charset_ on a Shift_JIS page and writes a multipart form in Shift_JIS, which tsgi decodes', async () => {
    const seen = await submit('/sjis', 'm');
    expect(seen.raw).toContain('name="_charset_"\r\n\r\nShift_JIS\r\n');
    expect(seen.raw).toContain(`name="n${Buffer.from([0x96, 0xbc]).toString('latin1')}"\r\n\r\n${Buffer.from([0x93, 0xfa, 0x96, 0x7b]).toString('latin1')}\r\n`);
    expect(seen.form).toEqual([['_charset_', 'Shift_JIS'], ['n名', '日本']]);
  });

  it('submits the fields of a <form> written inside a <table>, the foster-parented one first', async () => {
    const seen = await submit('/table', 'f');
    // The parser leaves the <form> empty, but associates both inputs with it (its form element pointer).
    expect(seen.raw).toBe('direct=2&inside=1');
    expect(seen.form).toEqual([['direct', '2'], ['inside', '1']]);
  });
});
