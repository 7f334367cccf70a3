/**
 * rewriteHtml on elements whose end tag the page leaves out (`<li>`, `<p>`, `<td>`, `<option>`,
 * `<dd>`…): each ends where HTML implies it ends (WHATWG HTML §13.1.2.4, "Optional tags", and
 * the tree builder's implied end tags), as browsers read it, not at the end of the document.
 * Over a real socket, the page sent in small chunks (tags split between them).
 */
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import { type ElementHandler, rewriteHtml } from 'tsgi/proxy';
import { app as legacySite } from '../examples/legacy-site/server.ts';
import { growthRatio } from './helpers.ts';
import { request } from './node-helpers.ts';

/** An app answering `html` as `type` in chunks of `size` bytes. */
function page(html: string, type = 'text/html; charset=utf-8', size = 5): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', type]]);
    return (async function* () {
      const bytes = Buffer.from(html, 'utf8');
      for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
    })();
  };
}

/** The body of `path` from `app` rewritten with `elements`, over a socket on 127.0.0.1. */
async function rewritten(app: App, elements: Record<string, ElementHandler>, path = '/'): Promise<string> {
  const server = await serve(rewriteHtml(app, { elements }), { host: '127.0.0.1', port: 0 });
  try {
    const reply = await request(`${server.url}${path}`);
    expect(reply.status).toBe(200);
    return reply.body.toString('latin1');
  } finally {
    await server.close();
  }
}

describe('rewriteHtml ends an element whose end tag is left out where HTML implies it', () => {
  it('remove(), append(), after() and setInnerContent() on an unclosed li, p, td, option and dd act up to the next one', async () => {
    const pages: Array<[name: string, before: string, after: string]> = [
      ['li', '<ul>', '<li>two</ul>end'],
      ['p', '<!DOCTYPE html><div>', '<p>two</div>end'],
      ['td', '<table><tr>', '<td>two</table>end'],
      ['option', '<select>', '<option>two</select>end'],
      ['dd', '<dl>', '<dd>two</dl>end'],
    ];
    for (const [name, before, after] of pages) {
      const html = (element: string) => `${before}${element}${after}`;
      const one = `<${name} id=t>one`;
      const edit = async (handler: ElementHandler) => rewritten(page(html(one)), { '[id=t]': handler });
      expect(await edit((el) => el.remove()), name).toBe(html(''));
      expect(await edit((el) => el.append('!')), name).toBe(html(`${one}!`));
      expect(await edit((el) => el.after('|')), name).toBe(html(`${one}</${name}>|`));
      expect(await edit((el) => el.setInnerContent('new')), name).toBe(html(`<${name} id=t>new`));
    }
  });

  it('remove() on an unclosed li removes that item only, up to the next li', async () => {
    const html = '<ul><li>one<li class=x>two <b>bold</b><li>three</ul><p>after</p>';
    expect(await rewritten(page(html), { 'li[class=x]': (el) => el.remove() })).toBe('<ul><li>one<li>three</ul><p>after</p>');
  });

  it('an li inside a nested list ends at that list\'s end tag, the outer one at its own list\'s', async () => {
    const html = '<ul><li>a<ul><li>b<li>c</ul>d<li>e</ul>f';
    expect(await rewritten(page(html), { li: (el) => el.append('!') })).toBe('<ul><li>a<ul><li>b!<li>c!</ul>d!<li>e!</ul>f');
  });

  it('append() on an unclosed p lands before the next p or block, or the end tag of its parent', async () => {
    const html = '<!DOCTYPE html><body><p>one<p>two<div>block</div><div><p>three</div>four<p>five</body></html>';
    expect(await rewritten(page(html), { p: (el) => el.append('!') })).toBe(
      '<!DOCTYPE html><body><p>one!<p>two!<div>block</div><div><p>three!</div>four<p>five!</body></html>',
    );
  });

  it('a p ends at <table> in a page with a doctype, and holds the table in quirks mode (no doctype), as browsers read it', async () => {
    const standard = '<!DOCTYPE html><p>x<table><tr><td>c</td></tr></table>y</p>';
    expect(await rewritten(page(standard), { p: (el) => el.after('|') })).toBe('<!DOCTYPE html><p>x</p>|<table><tr><td>c</td></tr></table>y</p>');
    const quirks = '<p>x<table><tr><td>c</td></tr></table>y</p>';
    expect(await rewritten(page(quirks), { p: (el) => el.after('|') })).toBe('<p>x<table><tr><td>c</td></tr></table>y</p>|');
  });

  it('after() on unclosed td and tr lands after each, its end tag written, at the next cell, row, or the end of the table', async () => {
    const html = '<table><tr><td>a<td>b<tr><th>c<td>d</table>e';
    expect(await rewritten(page(html), { td: (el) => el.after('|'), tr: (el) => el.after('/') })).toBe(
      '<table><tr><td>a</td>|<td>b</td>|</tr>/<tr><th>c<td>d</td>|</tr>/</table>e',
    );
  });

  it('setInnerContent() on an unclosed option replaces its text only', async () => {
    const html = '<select name=n><option value=1>One<option value=2>Two<optgroup label=g><option value=3>Three</select><p>after';
    expect(await rewritten(page(html), { 'option[value=1], option[value=3]': (el) => el.setInnerContent('New') })).toBe(
      '<select name=n><option value=1>New<option value=2>Two<optgroup label=g><option value=3>New</select><p>after',
    );
  });

  it('append() on unclosed dd and dt lands before the next dt or dd, or </dl>', async () => {
    const html = '<dl><dt>term<dd>one<dd>two<dt>t2<dd>three</dl>after';
    expect(await rewritten(page(html), { 'dd, dt': (el) => el.append('.') })).toBe('<dl><dt>term.<dd>one.<dd>two.<dt>t2.<dd>three.</dl>after');
  });

  it('</body> ends what is still open in it; a stray end tag ends nothing', async () => {
    const html = '<html><body><ul><li>a</span>b<li>c</body></html>';
    expect(await rewritten(page(html), { li: (el) => el.append('!'), body: (el) => el.append('[end]') })).toBe(
      '<html><body><ul><li>a</span>b!<li>c![end]</body></html>',
    );
  });

  it('head ends at the first tag that cannot be in it', async () => {
    const html = '<html><head><title>t</title><meta charset=utf-8><div>x</div>';
    expect(await rewritten(page(html), { head: (el) => el.append('<link rel=stylesheet href=a.css>', { html: true }) })).toBe(
      '<html><head><title>t</title><meta charset=utf-8><link rel=stylesheet href=a.css><div>x</div>',
    );
  });

  it('SVG ends at an HTML-only tag, its end tag written in its own case for after()', async () => {
    const html = '<svg><clipPath id=c><rect/><p>text</p>';
    expect(await rewritten(page(html), { 'svg, clippath': (el) => el.after('|') })).toBe('<svg><clipPath id=c><rect/></clipPath>|</svg>|<p>text</p>');
  });

  it('an HTML-only tag ends every open SVG and MathML element, nested ones too (<svg><svg>, <math><svg>): the HTML after them is read as HTML', async () => {
    // HTML's tree construction ("in foreign content") pops foreign elements up to an HTML one;
    // parse5's simulator left one namespace, so the rest of the page was read as SVG: a script
    // as markup (a link in its string rewritten with double quotes ends the string), `<div/>` as a whole element.
    for (const open of ['<svg><svg>', '<math><svg>', '<svg><g><svg><g>']) {
      const html = `${open}<circle r=1/><p>text</p><script>document.write("<a href='http://old.example.com/x'>x</a>")</script><div class="ad"/>ad</div>end`;
      const app = rewriteHtml(page(html), { upstream: 'http://old.example.com', elements: { svg: (el) => el.append('|'), div: (el) => el.remove() } });
      const server = await serve(app, { host: '127.0.0.1', port: 0 });
      try {
        const svgs = open.split('<svg>').length - 1;
        const ends = `${open.replaceAll('<g>', '').replaceAll('<svg>', '|').replace('<math>', '')}`;
        expect(ends.length, open).toBe(svgs);
        expect((await request(server.url)).body.toString('latin1'), open).toBe(`${open}<circle r=1/>${ends}<p>text</p><script>document.write("<a href='http://old.example.com/x'>x</a>")</script>end`);
      } finally {
        await server.close();
      }
    }
  });

  it('reads what follows as HTML once an end tag ends an unclosed SVG (<div><svg><path></div>): a script and a textarea keep their text', async () => {
    // The end tag of an HTML element the SVG is in ends the SVG too ("in foreign content", any
    // other end tag); parse5's simulator stays in SVG until `</svg>`, and read what followed as SVG.
    for (const [open, close] of [['<div>', '</div>'], ['<span>', '</span>'], ['<a href=/y>', '</a>'], ['<p>', '</p>'], ['<ul><li>', '</ul>']]) {
      const rest = `<script>document.write("<a href='http://old.example.com/x'>x</a>")</script><textarea><a href=http://old.example.com/x></textarea><div class="ad"/>ad</div>end`;
      const html = `${open}<svg><path d="M0 0">${close}${rest}`;
      const app = rewriteHtml(page(html), { upstream: 'http://old.example.com', elements: { svg: (el) => el.append('|'), div: (el) => void (el.getAttribute('class') === 'ad' && el.remove()) } });
      const server = await serve(app, { host: '127.0.0.1', port: 0 });
      try {
        const expected = `${open}<svg><path d="M0 0">|${close}<script>document.write("<a href='http://old.example.com/x'>x</a>")</script><textarea><a href=http://old.example.com/x></textarea>end`;
        expect((await request(server.url)).body.toString('latin1'), open).toBe(expected);
      } finally {
        await server.close();
      }
    }
  });

  it('writes no end tag for after() when the rewrite gives up past maxTokenBytes: the element has not ended', async () => {
    const tag = `<a title="${'t'.repeat(10_000)}">`;
    const html = `<div>x${tag}y</div>z`;
    const server = await serve(rewriteHtml(page(html, 'text/html', 1000), { maxTokenBytes: 4096, elements: { div: (el) => el.after('|') } }), { host: '127.0.0.1', port: 0 });
    try {
      expect((await request(server.url)).body.toString('latin1')).toBe(`<div>x|${tag}y</div>z`);
    } finally {
      await server.close();
    }
  });

  it('leaves an XHTML page as XML reads it: nothing is implied', async () => {
    const html = '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>x<div>y</div></p></body></html>';
    expect(await rewritten(page(html, 'application/xhtml+xml'), { p: (el) => el.append('!') })).toBe(
      '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>x<div>y</div>!</p></body></html>',
    );
  });

  it('reads deep stacks of unclosed elements in linear time', async () => {
    const read = (n: number) => rewritten(page(`<p><button>${'<div>'.repeat(n)}${'</span>'.repeat(n)}<li>x`, 'text/html', 64 * 1024), { li: (el) => el.append('!') });
    // Ten times the depth: quadratic would be 100 times the CPU time; linear, 10 (and noise).
    expect(await growthRatio(read, 4000, 40_000)).toBeLessThan(20);
  });

  it('rewrites a long list of unclosed items, each with a handler, in linear time', async () => {
    const read = async (n: number) => {
      const body = await rewritten(page(`<ul>${'<li><a href=x>item</a> text\n'.repeat(n)}</ul>`, 'text/html', 64 * 1024), { li: (el) => el.append('!') });
      expect(body.startsWith('<ul><li><a href=x>item</a> text\n!<li>')).toBe(true);
    };
    // Ten times the items: quadratic would be 100 times the CPU time; linear, 10 (and noise).
    expect(await growthRatio(read, 2000, 20_000)).toBeLessThan(20);
  });

  it('on the legacy example site, removing one unclosed <LI> keeps the other items and the rest of the page', async () => {
    let item = 0;
    const body = await rewritten(legacySite, { li: (el) => void (++item === 5 && el.remove()) }, '/index.html');
    expect(body).not.toContain('Caf&eacute; menu');
    expect(body).toContain('<LI><A HREF="/old-about">Our old address</A> (a redirect)\n<LI><A HREF="/files/large.bin">');
    expect(body).toContain('(64 MiB)\n</UL>\n<P><IMG SRC=');
    expect(body).toContain('</BODY>\n</HTML>');
  });
});
