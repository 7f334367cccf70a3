/**
 * `replaceText`'s (and `rewriteHtml`'s) charset when the `Content-Type` does not say it all, over real sockets: an
 * HTML page whose charset only a `<meta>` in its first 1024 bytes declares (WHATWG HTML
 * §13.2.3.2, "prescan a byte stream"), a byte order mark that overrides the declared charset
 * (WHATWG Encoding, "decode"), and the bound on what is held back to find out.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { type HtmlElement, proxy, replaceText, rewriteHtml } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

/** An app answering `type` with `chunks` (latin1 strings: one character per byte), each its own body chunk. */
function source(type: string, chunks: string[]): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', type]]);
    return (async function* () {
      for (const chunk of chunks) yield Buffer.from(chunk, 'latin1');
    })();
  };
}

/** The body bytes `app` answers a GET with, over a socket on 127.0.0.1, as a latin1 string. */
async function served(app: App): Promise<string> {
  const server = await start(app, { host: '127.0.0.1' });
  const reply = await request(`${server.url}/`);
  expect(reply.status).toBe(200);
  return reply.body.toString('latin1');
}

const cafe = (chunks: string[], type = 'text/html') => source(type, chunks);
const toBistro = { replacements: [['café', 'bistró ✓']] as Array<[string, string]> };
const noMatch = { replacements: [['nowhere', 'x']] as Array<[string, string]> };

describe('replaceText: an HTML page that declares its charset in a <meta>', () => {
  const page = '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Caf\xE9</title></head><body><p>caf\xE9 \x80 \xE0 bient\xF4t</p></body></html>';

  it('reads a windows-1252 <meta charset> page in windows-1252: untouched byte for byte without a match, rewritten in it with one', async () => {
    for (const type of ['text/html', 'application/xhtml+xml']) {
      expect(await served(replaceText(cafe([page], type), noMatch)), type).toBe(page);
      // `✓` has no windows-1252 byte: a character reference, as for a declared charset.
      expect(await served(replaceText(cafe([page], type), toBistro)), type).toBe(page.replace('caf\xE9 ', 'bistr\xF3 &#10003; '));
    }
  });

  it('reads <meta http-equiv="Content-Type" content="…; charset=iso-8859-1"> (WHATWG windows-1252)', async () => {
    const equiv = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head><body>caf\xE9</body></html>';
    expect(await served(replaceText(cafe([equiv]), toBistro))).toBe(equiv.replace('caf\xE9', 'bistr\xF3 &#10003;'));
  });

  it('finds the charset of a content attribute after a character that lower-cases to two (&#304;, İ): case is folded in ASCII only', async () => {
    const hello = '\xCF\xF0\xE8\xE2\xE5\xF2';
    const page = `<html><head><meta http-equiv="Content-Type" content="text/html;&#304; charset=windows-1251"></head><body>${hello}</body></html>`;
    const replaced = await served(replaceText(cafe([page]), { replacements: [['Привет', 'Пока']] }));
    expect(replaced).toBe(page.replace(hello, '\xCF\xEE\xEA\xE0'));
  });

  it('reads the charset of a content attribute as browsers extract it (WHATWG HTML, "extracting a character encoding from a meta element"), not as a strict media type', async () => {
    // Привет in windows-1251; read as windows-1252 (the fallback) it matches nothing.
    const hello = '\xCF\xF0\xE8\xE2\xE5\xF2';
    const bye = '\xCF\xEE\xEA\xE0';
    const pages: Array<[content: string, read: boolean]> = [
      ["text/html; charset='windows-1251'", true], // single quotes, common on legacy pages
      ['text/html, charset=windows-1251', true], // a comma for the semicolon
      ['text/html charset=windows-1251', true],
      ['charset=windows-1251', true],
      ['text/html; charset = windows-1251 ; x', true],
      ['text/html; CHARSET=windows-1251 trailing words', true],
      ['text/html; charset="windows-1251', false], // an unmatched quote: nothing
      ['text/html; charset', false],
    ];
    for (const [content, read] of pages) {
      const page = `<html><head><meta http-equiv="Content-Type" content="${content.replaceAll('"', '&quot;')}"></head><body title="${hello}">${hello}</body></html>`;
      const replaced = await served(replaceText(cafe([page]), { replacements: [['Привет', 'Пока']] }));
      expect(replaced, content).toBe(read ? page.replaceAll(hello, bye) : page);
      // rewriteHtml reads the attribute in that charset too (the same sniffing).
      let title: string | null = null;
      await served(rewriteHtml(cafe([page]), { elements: { body: (el: HtmlElement) => void (title = el.getAttribute('title')) } }));
      expect(title, content).toBe(read ? 'Привет' : 'Ïðèâåò');
    }
  });

  it('finds the <meta> whatever the chunk boundaries, text before it included', async () => {
    // é before the <meta>: the prescan decides before any of the first 1024 bytes is decoded.
    const early = '<html><head><title>Caf\xE9</title><meta http-equiv=content-type content="text/html;charset=windows-1252"></head><body>caf\xE9</body></html>';
    const expected = early.replace('>caf\xE9<', '>bistr\xF3 &#10003;<');
    const [from, to] = [early.indexOf('<meta'), early.indexOf('</head>')];
    for (let cut = from; cut <= to; cut++) {
      expect(await served(replaceText(cafe([early.slice(0, cut), early.slice(cut)]), toBistro)), `cut at ${cut}`).toBe(expected);
    }
    expect(await served(replaceText(cafe([...early]), toBistro)), 'one byte per chunk').toBe(expected);
  });

  it('passes a page whose <meta> names a charset it cannot write (Shift_JIS) through untouched', async () => {
    const sjis = '<meta charset=shift_jis><p>\x93\xFA\x96\x7B caf\xE9</p>';
    expect(await served(replaceText(cafe([sjis]), { replacements: [['p>', 'div>']] }))).toBe(sjis);
  });

  it('reads a page as UTF-8 when its <meta> ends past the first 1024 bytes, as documented', async () => {
    const late = (padding: number) => `<!--${'-'.repeat(padding)}--><meta charset=windows-1252><p>caf\xE9</p>`;
    const ending = 1024 - '<meta charset=windows-1252>'.length - '<!---->'.length;
    // Ends at byte 1024: read. One byte later (it starts before 1024 but ends after): not read.
    expect(await served(replaceText(cafe([late(ending)]), toBistro))).toBe(late(ending).replace('caf\xE9', 'bistr\xF3 &#10003;'));
    // Read as UTF-8, the byte E9 that is not UTF-8 is kept as it came, for the browser to read.
    expect(await served(replaceText(cafe([late(ending + 1)]), noMatch))).toBe(late(ending + 1));
    expect(await served(replaceText(cafe([late(2000)]), noMatch))).toBe(late(2000));
  });

  it('leaves the <meta> unread when the Content-Type has a charset, and in types other than HTML', async () => {
    const body = '<meta charset=windows-1252><p>caf\xC3\xA9</p>';
    expect(await served(replaceText(cafe([body], 'text/html; charset=utf-8'), toBistro))).toBe('<meta charset=windows-1252><p>bistr\xC3\xB3 \xE2\x9C\x93</p>');
    expect(await served(replaceText(cafe([body], 'text/plain'), toBistro))).toBe('<meta charset=windows-1252><p>bistr\xC3\xB3 \xE2\x9C\x93</p>');
  });
});

describe('replaceText: an HTML page that declares no charset anywhere', () => {
  // A legacy site's windows-1252 page: no charset in its Content-Type, no BOM, no <meta>. A
  // browser reads it in windows-1252 (WHATWG HTML §13.2.3.1: the default for an undeclared
  // document in most locales), and rewriteHtml leaves its bytes as they came.
  const page = '<!DOCTYPE html><html><head><title>Caf\xE9</title></head><body><p>caf\xE9 \x80 \x81 \x9D na\xEFve</p></body></html>';

  it('reads it in windows-1252 when its first 1024 bytes are not UTF-8: the bytes outside a match come back unchanged, whatever the chunks', async () => {
    const expected = page.replace('caf\xE9 ', 'bistr\xF3 &#10003; ');
    for (const type of ['text/html', 'text/html; charset=None']) {
      expect(await served(replaceText(cafe([page], type), noMatch)), type).toBe(page);
      expect(await served(replaceText(cafe([page], type), toBistro)), type).toBe(expected);
      expect(await served(replaceText(cafe([...page], type), toBistro)), `${type}, one byte per chunk`).toBe(expected);
    }
    // Stacked on rewriteHtml, which leaves such a page's bytes intact too.
    const stacked = replaceText(rewriteHtml(cafe([page]), { elements: { body: (el) => el.prepend('<div>new</div>', { html: true }) } }), toBistro);
    expect(await served(stacked)).toBe(expected.replace('<body>', '<body><div>new</div>'));
  });

  it('reads it in UTF-8 when those bytes are UTF-8, a character cut at byte 1024 included; bytes past them that are not UTF-8 are kept as they came', async () => {
    const cut = `<p>${'x'.repeat(1017)}caf\xC3\xA9</p>`;
    expect(await served(replaceText(cafe([cut]), toBistro))).toBe(`<p>${'x'.repeat(1017)}bistr\xC3\xB3 \xE2\x9C\x93</p>`);
    const late = `<p>${'x'.repeat(1100)} caf\xC3\xA9 caf\xE9</p>`;
    expect(await served(replaceText(cafe([late]), noMatch))).toBe(late);
  });

  it('keeps UTF-8 for XML and other text, whose default it is (XML 1.0 §4.3.3), their bytes that are not UTF-8 as they came', async () => {
    for (const type of ['application/xhtml+xml', 'application/xml', 'text/plain']) {
      expect(await served(replaceText(cafe([page], type), noMatch)), type).toBe(page);
      expect(await served(replaceText(cafe([page], type), { replacements: [['na', 'NA']] })), type).toBe(page.replace('na', 'NA'));
    }
  });
});

describe('replaceText: a character of a replacement the charset cannot hold', () => {
  // A legacy windows-1252 page behind a front that rewrites it with both filters: rewriteHtml
  // writes a character the page cannot hold as a character reference, and replaceText wrote `?`.
  const page = '<html><head><title>Caf\xE9</title></head><body><p>caf\xE9 \x80</p></body></html>';
  const tick = { replacements: [['café', 'café ✓'], ['Café', 'Café ✓']] as Array<[string, string]> };

  it('writes a numeric character reference in HTML and XML, as rewriteHtml does, whatever the chunks', async () => {
    const expected = page.replaceAll('af\xE9', 'af\xE9 &#10003;');
    for (const type of ['text/html; charset=windows-1252', 'application/xhtml+xml; charset=windows-1252', 'application/xml; charset=iso-8859-1']) {
      expect(await served(replaceText(cafe([page], type), tick)), type).toBe(expected);
      expect(await served(replaceText(cafe([...page], type), tick)), `${type}, one byte per chunk`).toBe(expected);
    }
    const stacked = replaceText(
      rewriteHtml(cafe([page], 'text/html; charset=windows-1252'), { elements: { body: (el) => el.prepend('<div>✓</div>', { html: true }) } }),
      tick,
    );
    expect(await served(stacked)).toBe(expected.replace('<body>', '<body><div>&#10003;</div>'));
  });

  it('writes `?` in other text, which has no way to write it', async () => {
    expect(await served(replaceText(cafe([page], 'text/plain; charset=windows-1252'), tick))).toBe(page.replaceAll('af\xE9', 'af\xE9 ?'));
  });
});

describe('replaceText and rewriteHtml: a <meta> across the 1024th byte', () => {
  // WHATWG HTML §13.2.3.2, "prescan a byte stream to determine its encoding": the prescan is
  // aborted, and declares nothing, when it reaches its end condition (the first 1024 bytes) at
  // any point, "including during instances of the get an attribute algorithm": a <meta> counts
  // only when it ends (its `>`) within them, wherever it starts.
  const page = (padding: number) => `<!--${'-'.repeat(padding)}--><meta charset=windows-1252><p title="caf\xE9">caf\xE9</p>`;
  const ending = 1024 - '<meta charset=windows-1252>'.length - '<!---->'.length;

  /** The charset each filter read `body` in: whether the byte E9 was `é` (windows-1252) or no character (UTF-8). */
  async function charsets(body: string, type?: string): Promise<{ replaceText: string; rewriteHtml: string }> {
    const replaced = await served(replaceText(cafe([body], type), { replacements: [['>café<', '>cafe!<']] as Array<[string, string]> }));
    const rewritten = await served(
      rewriteHtml(cafe([body], type), { elements: { p: (el) => el.setAttribute('data-read', el.getAttribute('title') === 'café' ? 'windows-1252' : 'utf-8') } }),
    );
    return { replaceText: replaced.includes('>cafe!<') ? 'windows-1252' : 'utf-8', rewriteHtml: /data-read="([^"]*)"/.exec(rewritten)?.[1] ?? rewritten.slice(-60) };
  }

  it('is read by both when it ends at byte 1024, and by neither when it starts before and ends after', async () => {
    expect(await charsets(page(ending))).toEqual({ replaceText: 'windows-1252', rewriteHtml: 'windows-1252' });
    // One byte later, so its `>` is byte 1025; then one whose `<` is byte 1024, the last one read.
    expect(await charsets(page(ending + 1))).toEqual({ replaceText: 'utf-8', rewriteHtml: 'utf-8' });
    expect(await charsets(page(1023 - '<!---->'.length))).toEqual({ replaceText: 'utf-8', rewriteHtml: 'utf-8' });
    expect(await charsets(page(2000))).toEqual({ replaceText: 'utf-8', rewriteHtml: 'utf-8' });
  });

  it('is read by both when the Content-Type names a charset no browser knows (charset=None), as browsers go on to the prescan', async () => {
    // WHATWG Encoding "get an encoding" fails for the label: HTML's encoding sniffing goes on.
    for (const type of ['text/html; charset=None', 'text/html; charset="bogus"', 'application/xhtml+xml; charset=unknown-8bit']) {
      expect(await charsets(page(0), type), type).toEqual({ replaceText: 'windows-1252', rewriteHtml: 'windows-1252' });
    }
    // Without a <meta>, the page is read as one without a charset is: UTF-8, replaced (not passed through).
    expect(await served(replaceText(cafe(['<p>caf\xC3\xA9</p>'], 'text/html; charset=None'), toBistro))).toBe('<p>bistr\xC3\xB3 \xE2\x9C\x93</p>');
  });
});

describe('replaceText: an XML document that declares its encoding in its XML declaration', () => {
  const feed = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0"><channel><title>Caf\xE9 \x80</title></channel></rss>';

  it('reads an ISO-8859-1 feed (RFC 7303 §4.3: BOM, then the declaration), whatever the chunk boundaries', async () => {
    const expected = feed.replace('Caf\xE9', 'bistr\xF3 &#10003;');
    const lower = { replacements: [['Café', 'bistró ✓']] as Array<[string, string]> };
    for (const type of ['application/rss+xml', 'application/xml', 'text/xml', 'application/atom+xml', 'application/xhtml+xml']) {
      expect(await served(replaceText(cafe([feed], type), noMatch)), type).toBe(feed);
      expect(await served(replaceText(cafe([feed], type), lower)), type).toBe(expected);
    }
    expect(await served(replaceText(cafe([feed], 'application/rss+xml'), lower))).toBe(expected);
    // A charset no browser knows is ignored: the declaration is read, as without one.
    expect(await served(replaceText(cafe([feed], 'application/rss+xml; charset=None'), lower))).toBe(expected);
    for (let cut = 1; cut < feed.indexOf('?>') + 3; cut++) {
      expect(await served(replaceText(cafe([feed.slice(0, cut), feed.slice(cut)], 'application/rss+xml'), lower)), `cut at ${cut}`).toBe(expected);
    }
    expect(await served(replaceText(cafe([...feed], 'application/rss+xml'), lower)), 'one byte per chunk').toBe(expected);
  });

  it('reads UTF-8 without an encoding, and the charset parameter over the declaration', async () => {
    const utf8 = '<?xml version="1.0"?><t>Caf\xC3\xA9</t>';
    expect(await served(replaceText(cafe([utf8], 'application/xml'), { replacements: [['Café', 'X']] }))).toBe('<?xml version="1.0"?><t>X</t>');
    const declared = '<?xml version="1.0" encoding="windows-1252"?><t>Caf\xC3\xA9</t>';
    expect(await served(replaceText(cafe([declared], 'application/xml; charset=utf-8'), { replacements: [['Café', 'X']] }))).toBe('<?xml version="1.0" encoding="windows-1252"?><t>X</t>');
  });

  it('passes a document declared in an encoding it cannot write (Shift_JIS) through untouched', async () => {
    const sjis = "<?xml version='1.0' encoding='Shift_JIS'?><t>\x93\xFA\x96\x7B</t>";
    expect(await served(replaceText(cafe([sjis], 'application/xml'), { replacements: [['t>', 'u>']] }))).toBe(sjis);
  });
});

describe('replaceText: a byte order mark', () => {
  const bom = '\xEF\xBB\xBF';
  const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

  it('reads a body that starts with a UTF-8 BOM as UTF-8, whatever the charset declared, BOM kept', async () => {
    const body = bom + utf8('café €');
    for (const type of ['text/plain; charset=iso-8859-1', 'text/html; charset=windows-1252', 'text/css; charset=iso-8859-1']) {
      expect(await served(replaceText(cafe([body], type), toBistro)), type).toBe(bom + utf8('bistró ✓ €'));
      expect(await served(replaceText(cafe([bom.slice(0, 1), bom.slice(1, 2), bom.slice(2) + body.slice(3)], type), toBistro)), `${type}, BOM in pieces`).toBe(bom + utf8('bistró ✓ €'));
    }
    // A BOM before a contradicting <meta>: the BOM wins.
    const page = bom + utf8('<meta charset=windows-1252><p>café</p>');
    expect(await served(replaceText(cafe([page]), toBistro))).toBe(bom + utf8('<meta charset=windows-1252><p>bistró ✓</p>'));
  });

  it('passes a body with a UTF-16 BOM through untouched (a charset it cannot write), even labelled UTF-8', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('café', 'utf16le')]).toString('latin1');
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('café', 'utf16le').swap16()]).toString('latin1');
    for (const [body, type] of [[le, 'text/plain; charset=utf-8'], [be, 'text/plain'], [le, 'text/html']] as const) {
      expect(await served(replaceText(cafe([body], type), toBistro)), type).toBe(body);
    }
  });
});

describe('replaceText: what the charset sniffing holds back', () => {
  /**
   * GET over a socket; answers the bytes that reached the client before the app was let past
   * its gate (waiting for them to stop coming), and the whole body.
   */
  async function beforeGate(type: string, first: string, rest: string) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', type]]);
      return (async function* () {
        yield Buffer.from(first, 'latin1');
        await gate;
        yield Buffer.from(rest, 'latin1');
      })();
    };
    const server = await start(replaceText(app, noMatch), { host: '127.0.0.1' });
    let received = '';
    const ended = new Promise<string>((resolve, reject) => {
      http.get(`${server.url}/`, { agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        res.on('end', () => resolve(received));
        res.on('error', reject);
      }).on('error', reject);
    });
    const settle = async () => {
      for (let quiet = 0, seen = -1; quiet < 5; quiet = received.length === seen ? quiet + 1 : 0) {
        seen = received.length;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await settle();
    const early = received;
    open();
    return { early, whole: await ended };
  }

  it('sends an HTML page without a <meta> charset once 1024 bytes have come, not the whole body', async () => {
    const head = `<p>${'x'.repeat(1100)}</p>`;
    const { early, whole } = await beforeGate('text/html', head, '<p>caf\xE9</p>');
    expect(early).toBe(head);
    expect(whole).toBe(`${head}<p>caf\xE9</p>`);
  });

  it('holds back less than 1024 bytes only while a <meta> may still come, and sends them once it has', async () => {
    const short = '<html><head><title>x</title>';
    expect((await beforeGate('text/html', short, '<meta charset=windows-1252></head>caf\xE9')).early).toBe('');
    const declared = '<html><head><meta charset=windows-1252><title>caf\xE9</title>';
    const { early, whole } = await beforeGate('text/html', declared, '</head>');
    expect(early).toBe(declared);
    expect(whole).toBe(`${declared}</head>`);
  });

  it('holds back nothing of a type without a prescan once the first byte cannot begin a BOM', async () => {
    expect((await beforeGate('text/plain', 'ab', 'c')).early).toBe('ab');
    expect((await beforeGate('text/plain; charset=windows-1252', 'caf\xE9', '!')).early).toBe('caf\xE9');
  });
});

describe('rewriteHtml: an ISO-2022-JP page', () => {
  // ISO-2022-JP is not ASCII-compatible: after ESC $ B, two bytes of 0x21–0x7E make one kanji,
  // so `<p>!` there is 腫勝, no tag. As UTF-16, the rewriter cannot read it, and leaves it alone.
  const jis = '<p>\x1B$B<p>!\x1B(B</p>';

  it('passes it through untouched, declared by the Content-Type or by a <meta> (whatever follows it)', async () => {
    const star = { elements: { p: (el: HtmlElement) => el.before('*') } };
    expect(await served(rewriteHtml(source('text/html; charset=ISO-2022-JP', [jis]), star))).toBe(jis);
    const meta = `<html><head><meta charset="iso-2022-jp"><title>t</title></head><body>${jis}</body></html>`;
    for (const cut of [1, meta.indexOf('<title>'), meta.indexOf('<p>') + 5]) {
      expect(await served(rewriteHtml(source('text/html', [meta.slice(0, cut), meta.slice(cut)]), star)), `cut at ${cut}`).toBe(meta);
    }
  });
});

describe('rewriteHtml: an attribute a handler adds', () => {
  it("writes its name in the page's charset, as its value: never a character's low byte (U+013C ļ is not <)", async () => {
    const add = (name: string) => ({ elements: { a: (el: HtmlElement) => el.setAttribute(name, 'v') } });
    // UTF-8: the name's UTF-8 bytes; windows-1252: its byte there.
    expect(await served(rewriteHtml(source('text/html; charset=utf-8', ['<a href=/x>l</a>']), add('data-café')))).toBe('<a href=/x data-caf\xC3\xA9="v">l</a>');
    expect(await served(rewriteHtml(source('text/html; charset=windows-1252', ['<a href=/x>l</a>']), add('data-café')))).toBe('<a href=/x data-caf\xE9="v">l</a>');
    // Characters whose low byte is <, >, = or ": the check on the name let them by, and the tag was
    // cut short by markup of the name's making (data-<script>alert(1)</script>).
    const tricky = 'data-\u013Cscript\u013Ealert(1)\u013C\u012Fscript\u013E';
    const body = await served(rewriteHtml(source('text/html; charset=utf-8', ['<a href=/x>l</a>']), add(tricky)));
    expect(body).toBe(`<a href=/x ${Buffer.from(tricky.toLowerCase(), 'utf8').toString('latin1')}="v">l</a>`);
    expect(body).not.toContain('<script>');
  });
});

describe('rewriteHtml: an XHTML page that declares its encoding in its XML declaration', () => {
  // As replaceText reads it (RFC 7303 §4.3): without a charset parameter, an
  // application/xhtml+xml page is in the encoding of its XML declaration.
  const xhtml = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><a href="/men\xFC.html" title="M\xFCnchen">x</a></body></html>';

  it('reads and writes its attributes in that encoding, whatever the chunks', async () => {
    const expected = xhtml.replace('href="/men\xFC.html" title="M\xFCnchen"', 'href="http://old.example.com/men\xFC.html" title="M\xFCnchen" data-t="M\xFCnchen \u2713"'.replace('\u2713', '&#10003;'));
    const options = { elements: { a: (el: HtmlElement) => el.setAttribute('href', `http://old.example.com${el.getAttribute('href')}`).setAttribute('data-t', `${el.getAttribute('title')} \u2713`) } };
    for (const cut of [1, 5, 20, xhtml.indexOf('?>') + 1, xhtml.indexOf('<a')]) {
      expect(await served(rewriteHtml(source('application/xhtml+xml', [xhtml.slice(0, cut), xhtml.slice(cut)]), options)), `cut at ${cut}`).toBe(expected);
    }
  });

  it('leaves the page alone from the declaration on when it names ISO-2022-JP', async () => {
    const jis = '<?xml version="1.0" encoding="ISO-2022-JP"?><p>\x1B$B<p>!\x1B(B</p>';
    expect(await served(rewriteHtml(source('application/xhtml+xml', [jis]), { elements: { p: (el: HtmlElement) => el.before('*') } }))).toBe(jis);
  });
});

describe('rewriteHtml through proxy: an HTML page that declares no charset anywhere', () => {
  // A legacy site's windows-1252 page, behind proxy, served by a raw upstream with no charset in
  // its Content-Type, no BOM and no <meta>: rewriteHtml reads and writes it as replaceText does
  // (WHATWG HTML §13.2.3.1: windows-1252 when its first 1024 bytes are not UTF-8).
  const legacy =
    '<!DOCTYPE html><html><head><title>Caf\xE9</title></head><body><p title="caf\xE9 \x80">na\xEFve</p></body></html>';

  /**
   * The page a client gets when a raw upstream serves `body` (latin1, cut at `cuts`, each piece
   * written on its own) as `type`, through proxy and `rewriteHtml` with `elements`.
   */
  async function throughProxy(
    body: string,
    type: string,
    cuts: number[],
    elements: Record<string, (el: HtmlElement) => void>,
  ): Promise<string> {
    const upstream = net.createServer((socket) => {
      socket.once('data', async () => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nConnection: close\r\n\r\n`);
        for (const [i, at] of [0, ...cuts].entries()) {
          socket.write(Buffer.from(body.slice(at, cuts[i] ?? body.length), 'latin1'));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        socket.end();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const origin = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      return await served(rewriteHtml(origin, { elements }));
    } finally {
      await origin.close();
      await new Promise((resolve) => upstream.close(resolve));
    }
  }

  it('reads its attributes in windows-1252 and writes them back in it, byte for byte where untouched, whatever the chunks', async () => {
    const expected = legacy.replace('title="caf\xE9 \x80"', 'title="caf\xE9 \x80 &#10003;" data-seen="caf\xE9 \x80"');
    for (const cuts of [[], [legacy.indexOf('\xE9')], [legacy.indexOf('<p') + 2, legacy.indexOf('\x80')]]) {
      const seen: Array<string | null> = [];
      const elements = {
        p: (el: HtmlElement) => {
          seen.push(el.getAttribute('title'));
          const title = el.getAttribute('title');
          el.setAttribute('title', `${title} \u2713`).setAttribute('data-seen', title!);
        },
      };
      expect(await throughProxy(legacy, 'text/html', cuts, elements), `cut at ${cuts.join()}`).toBe(expected);
      expect(seen).toEqual(['café €']);
    }
  });

  it('reads a tag before the <meta> in the charset the <meta> declares, as browsers do', async () => {
    const early = '<html><head><title lang="caf\xE9">t</title><meta charset=windows-1252></head></html>';
    const seen: Array<string | null> = [];
    const read = { title: (el: HtmlElement) => void seen.push(el.getAttribute('lang')) };
    const body = await throughProxy(early, 'text/html', [early.indexOf('<meta') + 3], read);
    expect(body).toBe(early);
    expect(seen).toEqual(['café']);
  });

  it('keeps reading a UTF-8 page, and one whose Content-Type names its charset, as before', async () => {
    // Undeclared but UTF-8 so far: read as UTF-8, written as references, which any charset reads.
    const utf8 = '<p title="caf\xC3\xA9">x</p>';
    const mark = {
      p: (el: HtmlElement) => void el.setAttribute('title', `${el.getAttribute('title')} \u2713`),
    };
    expect(await throughProxy(utf8, 'text/html', [], mark)).toBe('<p title="caf&#233; &#10003;">x</p>');
    const declared = await throughProxy(utf8, 'text/html; charset=utf-8', [], mark);
    expect(declared).toBe('<p title="caf\xC3\xA9 \xE2\x9C\x93">x</p>');
    expect(await throughProxy(legacy, 'text/html; charset=utf-8', [], {})).toBe(legacy);
  });
});

describe('replaceText: bytes that are not UTF-8 in text read as UTF-8', () => {
  it('passes them byte for byte, matched text around them replaced (a legacy page whose first 1024 bytes are ASCII, an undeclared stylesheet)', async () => {
    const head = `<html><head><script>${'/* ascii */'.repeat(100)}</script></head>`;
    const page = `${head}<body><p>caf\xE9 \x80 \xC3 \xF0\x9F old.example.com \xE2\x9C\x93</p></body></html>`;
    const cut = head.length + 12; // inside "caf\xE9 ": a chunk ends after \xE9
    const out = await served(replaceText(cafe([page.slice(0, cut), page.slice(cut, -30), page.slice(-30)]), { replacements: [['old.example.com', 'www.example.com']] }));
    expect(out).toBe(page.replace('old.example.com', 'www.example.com'));
    const css = 'h1 { content: "\xA9 2009 caf\xE9"; background: url(http://old.example.com/bg.png) }\xFF';
    expect(await served(replaceText(cafe([css.slice(0, 20), css.slice(20)], 'text/css'), { replacements: [['old.example.com', 'www.example.com']] })))
      .toBe(css.replace('old.example.com', 'www.example.com'));
    // Any bytes, cut anywhere (sequences split between chunks, cut short, overlong, surrogates).
    for (let round = 0; round < 20; round++) {
      const bytes = Array.from({ length: 300 }, () => String.fromCharCode(Math.random() < 0.5 ? 0x61 : 0x80 + Math.floor(Math.random() * 0x80)));
      const text = `x${bytes.join('')}\xF0\x9F\x98\x80\xED\xA0\x80\xC0\xAF\xE2\x9C`;
      const cuts = [0, ...Array.from({ length: 8 }, () => Math.floor(Math.random() * text.length)).sort((a, b) => a - b), text.length];
      const chunks = cuts.slice(1).map((to, i) => text.slice(cuts[i], to));
      expect(await served(replaceText(cafe(chunks, 'text/plain'), { replacements: [['x', 'y']] })), JSON.stringify(text)).toBe(`y${text.slice(1)}`);
    }
  });
});
