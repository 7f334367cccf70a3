/**
 * The streaming filters of tsgi/proxy give the same bytes however the body is cut: seeded
 * random documents and texts, split at random byte offsets (inside tags, attribute values,
 * comments, multi-byte characters and would-be matches), must come out exactly as the same
 * body in one chunk does, and `replaceText` as `String.prototype.replace` over the whole text.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request } from 'tsgi';
import { replaceText, rewriteHtml } from 'tsgi/proxy';
import { type Generator, generator } from './helpers.ts';

/** An app answering `body` as `type`, in the given pieces. */
function pieces(body: Buffer, cuts: number[], type: string): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', type]]);
    return (async function* () {
      let at = 0;
      for (const cut of [...cuts, body.length]) {
        yield body.subarray(at, cut);
        at = cut;
      }
    })();
  };
}

/** Up to `max` sorted cut offsets inside `length` bytes (0-byte pieces included now and then). */
function cutsOf(random: Generator, length: number, max: number): number[] {
  const cuts: number[] = [];
  const count = random.below(max + 1);
  for (let i = 0; i < count; i++) cuts.push(random.below(length + 1));
  return cuts.sort((a, b) => a - b);
}

/** The filtered body, whole. */
async function bodyOf(app: App): Promise<Buffer> {
  const res = await Request.blank('/', { baseUrl: 'https://new.example.com/legacy' }).getResponse(app);
  return Buffer.from(await res.bytes());
}

const HTML_PARTS = [
  '<!DOCTYPE html>',
  '<html>',
  '<head>',
  '<title>Ä &amp; ü</title>',
  '</head>',
  '<body class=old>',
  '<p>x<a href="http://old.example.com/a?b=1&amp;c" title=\'t\'>link</a></p>',
  '<a href=/rel>rel</a>',
  '<!-- <body> in a comment -->',
  '<script>if (a < b) document.write("<body>")</script>',
  '<nav><a href="http://old.example.com/n">nav</a></nav>',
  '<img src="http://old.example.com/i.png" alt="€ 10">',
  'text € → ✓ ',
  '<br/>',
  '</body>',
  '</html>',
];

describe('filters give the same output whatever the chunking', () => {
  it('rewriteHtml: 300 random documents, each cut at random offsets, equal the same document in one chunk', async () => {
    const random = generator(20261203);
    const options: Parameters<typeof rewriteHtml>[1] = {
      elements: {
        head: (el) => el.append('<link rel="stylesheet" href="/new.css">', { html: true }),
        body: (el) => el.prepend('<div class="banner">Old & new</div>', { html: true }),
        nav: (el) => el.remove(),
        'a[href^="http://old.example.com"]': (el, req) => el.setAttribute('href', `${req.applicationUrl}${new URL(el.getAttribute('href')!).pathname}`),
        'img[src]': (el) => el.setAttribute('alt', 'an image'),
      },
    };
    for (let round = 0; round < 300; round++) {
      const count = 3 + random.below(12);
      const html = Array.from({ length: count }, () => random.pick(HTML_PARTS)).join(random.pick(['', '\n', ' ']));
      const body = Buffer.from(html, 'utf8');
      const whole = await bodyOf(rewriteHtml(pieces(body, [], 'text/html; charset=utf-8'), options));
      const cuts = cutsOf(random, body.length, 12);
      const cut = await bodyOf(rewriteHtml(pieces(body, cuts, 'text/html; charset=utf-8'), options));
      expect(cut.toString('utf8'), `round ${round}: ${JSON.stringify(html)} cut at ${cuts.join(',')}`).toBe(whole.toString('utf8'));
    }
  });

  it('replaceText: 500 random texts, each cut at random offsets, equal String.prototype.replace over the whole text, in order', async () => {
    const random = generator(31122026);
    const replacements: Array<[string | RegExp, string]> = [
      ['ab', 'X'],
      [/€{1,3}x?/, '[$&]'],
      ['XX', 'Y'],
      [/(\d)-(\d)/, '$2+$1'],
    ];
    const alphabet = ['a', 'b', 'ab', '€', 'x', '1-2', '-', '3', '\n', 'é', '✓', 'XX'];
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: 1 + random.below(40) }, () => random.pick(alphabet)).join('');
      let expected = text;
      for (const [pattern, replacement] of replacements) {
        expected = typeof pattern === 'string' ? expected.replaceAll(pattern, replacement) : expected.replace(new RegExp(pattern.source, 'g'), replacement);
      }
      const body = Buffer.from(text, 'utf8');
      const cuts = cutsOf(random, body.length, 10);
      const out = await bodyOf(replaceText(pieces(body, cuts, 'text/plain; charset=utf-8'), { replacements, maxMatchLength: 4 }));
      expect(out.toString('utf8'), `round ${round}: ${JSON.stringify(text)} cut at ${cuts.join(',')}`).toBe(expected);
    }
  });

  it('replaceText: ^, \\b and lookbehind see the text before a boundary, as in the whole text, in 500 random cuttings', async () => {
    const random = generator(5092026);
    const replacements: Array<[RegExp, string]> = [
      [/^a/g, '<'],
      [/\bcat/g, 'DOG'],
      [/(?<=é)x/g, 'Y'],
      [/(?<![a-z])b/g, 'B'],
      [/(?<=\d-)\d/g, '#'],
    ];
    const alphabet = ['a', 'b', 'cat', 'con', 'é', 'x', ' ', '\n', '1-2', '✓'];
    for (let round = 0; round < 500; round++) {
      const text = Array.from({ length: 1 + random.below(30) }, () => random.pick(alphabet)).join('');
      const expected = replacements.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
      const body = Buffer.from(text, 'utf8');
      const cuts = cutsOf(random, body.length, 10);
      const out = await bodyOf(replaceText(pieces(body, cuts, 'text/plain; charset=utf-8'), { replacements, maxMatchLength: 3 }));
      expect(out.toString('utf8'), `round ${round}: ${JSON.stringify(text)} cut at ${cuts.join(',')}`).toBe(expected);
    }
  });

  it('replaceText in text/event-stream: 300 random streams, each cut at random offsets, equal every event replaced on its own', async () => {
    const random = generator(7012027);
    const replacements: Array<[string | RegExp, string]> = [
      ['ab', 'X'],
      [/€{1,3}x?/g, '[$&]'],
      [/b\n\ndata/g, 'SPAN'],
      [/\n$/g, '\n:end'],
      ['XX', 'Y'],
    ];
    const alphabet = ['a', 'b', 'ab', '€', 'x', 'XX', ': '];
    const separators = ['\n\n', '\r\n\r\n', '\r\r', '\n\r\n'];
    for (let round = 0; round < 300; round++) {
      const events = Array.from({ length: 1 + random.below(5) }, () => {
        const lines = Array.from({ length: 1 + random.below(3) }, () => `data${Array.from({ length: random.below(6) }, () => random.pick(alphabet)).join('')}`);
        return lines.join(random.pick(['\n', '\r\n'])) + random.pick(separators);
      });
      const text = events.join('') + (random.chance(0.5) ? 'data: unfinished ab' : '');
      const expected = [...events, text.slice(events.join('').length)]
        .map((event) => replacements.reduce((out, [pattern, replacement]) => (typeof pattern === 'string' ? out.replaceAll(pattern, replacement) : out.replace(pattern, replacement)), event))
        .join('');
      const body = Buffer.from(text, 'utf8');
      const cuts = cutsOf(random, body.length, 10);
      const out = await bodyOf(replaceText(pieces(body, cuts, 'text/event-stream'), { replacements, maxMatchLength: 8 }));
      expect(out.toString('utf8'), `round ${round}: ${JSON.stringify(text)} cut at ${cuts.join(',')}`).toBe(expected);
    }
  });
});
