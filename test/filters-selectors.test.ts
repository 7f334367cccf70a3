/**
 * rewriteHtml's element selectors, over a real socket on 127.0.0.1: a quoted attribute value
 * holds any character but its quote (CSS's strings), a `,` or `]` included, in a list too.
 */
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import { type ElementHandler, rewriteHtml } from 'tsgi/proxy';
import { request } from './node-helpers.ts';

const PAGE = '<meta name=viewport content="width=device-width, initial-scale=1"><a href="/search?q=a,b" title="[x]">1</a><a href="/y">2</a><img src=x>';

function page(): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8']]);
    return [Buffer.from(PAGE)];
  };
}

async function rewritten(elements: Record<string, ElementHandler>): Promise<string> {
  const server = await serve(rewriteHtml(page(), { elements }), { host: '127.0.0.1', port: 0 });
  try {
    return (await request(server.url)).body.toString('utf8');
  } finally {
    await server.close();
  }
}

describe('rewriteHtml selectors', () => {
  it('take a quoted value holding a comma or a bracket, alone or in a list', async () => {
    const mark: ElementHandler = (el) => void el.setAttribute('data-m', '1');
    expect(await rewritten({ 'meta[content="width=device-width, initial-scale=1"]': (el) => void el.remove() })).toBe(PAGE.replace(/<meta[^>]*>/, ''));
    expect(await rewritten({ "a[href='/search?q=a,b'], img": mark })).toBe(
      '<meta name=viewport content="width=device-width, initial-scale=1"><a href="/search?q=a,b" title="[x]" data-m="1">1</a><a href="/y">2</a><img src=x data-m="1">',
    );
    expect(await rewritten({ 'a[title="[x]"]': mark })).toBe(PAGE.replace('title="[x]"', 'title="[x]" data-m="1"'));
  });

  it('still refuse what they do not support', () => {
    for (const selector of ['a[title="x]', 'div > p', 'a.b', 'a[href', 'a[x="1"]]']) {
      expect(() => rewriteHtml(page(), { elements: { [selector]: () => {} } }), selector).toThrow(TypeError);
    }
  });
});

describe('rewriteHtml selectors: the attribute values HTML matches in any case', () => {
  /** The page `html` of `type` rewritten under `elements`, over a socket. */
  async function rewrite(html: string, type: string, elements: Record<string, ElementHandler>): Promise<string> {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', type]]);
      return [Buffer.from(html)];
    };
    const server = await serve(rewriteHtml(app, { elements }), { host: '127.0.0.1', port: 0 });
    try {
      return (await request(server.url)).body.toString('utf8');
    } finally {
      await server.close();
    }
  }

  it('matches rel, type, http-equiv… ignoring ASCII case in an HTML page, as browsers\' selectors do (HTML "case-sensitivity of selectors"); other values keep their case', async () => {
    const legacy = '<META HTTP-EQUIV="Refresh" CONTENT="5"><LINK REL="StyleSheet" HREF="a.css"><input type=HIDDEN name=x><a class=Big lang=EN-us>x</a>';
    const out = await rewrite(legacy, 'text/html', {
      'meta[http-equiv=refresh]': (el) => void el.remove(),
      'link[rel~=stylesheet]': (el) => void el.setAttribute('data-css', '1'),
      'input[type=hidden]': (el) => void el.setAttribute('data-hidden', '1'),
      'a[lang^=en]': (el) => void el.setAttribute('data-en', '1'),
      'a[class=big]': (el) => void el.setAttribute('data-class', '1'), // class is case-sensitive
    });
    expect(out).toBe('<LINK REL="StyleSheet" HREF="a.css" data-css="1"><input type=HIDDEN name=x data-hidden="1"><a class=Big lang=EN-us data-en="1">x</a>');
  });

  it('keeps them case-sensitive in an XHTML page, which browsers read as XML', async () => {
    const page = '<html xmlns="http://www.w3.org/1999/xhtml"><head><link rel="StyleSheet" href="a.css"/></head></html>';
    expect(await rewrite(page, 'application/xhtml+xml', { 'link[rel=stylesheet]': (el) => void el.remove() })).toBe(page);
  });

  it('take the i and s flags of Selectors 4 (§6.3): i any ASCII case, in any page and for any attribute; s the case as written, even for type', async () => {
    const legacy = '<script TYPE="Text/JavaScript" src=a.js></script><a class=Big href=/A>x</a><input type=HIDDEN name=x>';
    const out = await rewrite(legacy, 'text/html', {
      '[type="text/javascript" i]': (el) => void el.setAttribute('data-js', '1'),
      'a[class=big I]': (el) => void el.setAttribute('data-class', '1'),
      "a[href^='/a'i]": (el) => void el.setAttribute('data-href', '1'),
      'input[type=hidden s]': (el) => void el.setAttribute('data-s', '1'),
    });
    expect(out).toBe('<script TYPE="Text/JavaScript" src=a.js data-js="1"></script><a class=Big href=/A data-class="1" data-href="1">x</a><input type=HIDDEN name=x>');
    const xhtml = '<html xmlns="http://www.w3.org/1999/xhtml"><head><link rel="StyleSheet" href="a.css"/></head></html>';
    expect(await rewrite(xhtml, 'application/xhtml+xml', { 'link[rel=stylesheet i]': (el) => void el.remove() })).toBe(xhtml.replace('<link rel="StyleSheet" href="a.css"/>', ''));
  });

  it('refuse a flag without a value, or one they do not know', () => {
    for (const selector of ['a[href i]', 'a[href=x q]', 'a[href="x" i s]', 'a[href=x ii]']) {
      expect(() => rewriteHtml(() => [], { elements: { [selector]: () => {} } }), selector).toThrow(new TypeError(`rewriteHtml: unsupported selector ${JSON.stringify(selector)}`));
    }
  });
});
