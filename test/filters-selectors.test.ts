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
