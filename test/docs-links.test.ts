/**
 * Every relative link and `#anchor` in docs/*.md, README.md and CHANGELOG.md reaches a file that
 * exists and, for an anchor into a Markdown page, a heading (or `<a name|id>`) of that page, by
 * GitHub's anchor rules. Links to this repository on github.com (`…/tsgi/tsgi/blob/main/<path>`,
 * as the README writes them for npm's page) are checked as repository paths; other absolute URLs
 * are not fetched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const REPO = /^https:\/\/github\.com\/tsgi\/tsgi\/(?:blob|tree)\/main\/([^#]*)(#.*)?$/;

/** The lines of a Markdown text outside fenced code blocks, with their 1-based numbers. */
function* prose(markdown: string): Generator<[number, string]> {
  let fence: string | undefined;
  for (const [i, line] of markdown.split('\n').entries()) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line);
    if (m) {
      if (fence === undefined) fence = m[1]![0]!.repeat(m[1]!.length);
      else if (m[1]!.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence === undefined) yield [i + 1, line];
  }
}

/**
 * GitHub's anchor of a heading's Markdown: the rendered text (code spans keep their content
 * without the backticks, links keep their text, HTML tags go), lower-cased, punctuation other
 * than `-` and `_` dropped, each space to `-`.
 */
function slug(heading: string): string {
  const text = heading
    .split(/(`+[^`]*`+)/)
    .map((part, i) =>
      i % 2 === 1
        ? part.replace(/^`+|`+$/g, '')
        : part
            .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
            .replace(/<[^>]+>/g, '')
            .replace(/(^|\W)_+|_+(?=\W|$)/g, '$1'),
    )
    .join('');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown page: its headings' slugs, repeats numbered `-1`, `-2`, …, and `<a name|id>`s. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, line] of prose(markdown)) {
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (h) {
      const s = slug(h[1]!);
      const n = seen.get(s) ?? 0;
      seen.set(s, n + 1);
      found.add(n === 0 ? s : `${s}-${n}`);
    }
    for (const a of line.matchAll(/<a\s[^>]*\b(?:name|id)="([^"]+)"/g)) found.add(a[1]!);
  }
  return found;
}

/** The link targets of a Markdown text outside code, with their line numbers: inline links and reference definitions. */
function* links(markdown: string): Generator<[number, string]> {
  for (const [no, line] of prose(markdown)) {
    const text = line.replace(/(`+)[^`]*?\1/g, '');
    for (const m of text.matchAll(/\]\(\s*(?:<([^>]*)>|([^)\s]+))(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) yield [no, m[1] ?? m[2]!];
    const ref = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(text);
    if (ref) yield [no, ref[1]!];
  }
}

/** The broken links of the page `file` (relative to `root`), as `file:line: link (why)`. */
function brokenLinks(root: string, file: string): string[] {
  const broken: string[] = [];
  const cache = new Map<string, Set<string>>();
  for (const [no, link] of links(readFileSync(path.join(root, file), 'utf8'))) {
    let target = link;
    const repo = REPO.exec(link);
    if (repo) target = `/${repo[1]!}${repo[2] ?? ''}`;
    else if (/^[a-z][a-z\d+.-]*:/i.test(link) || link.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const where = decodeURI(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? '' : decodeURIComponent(target.slice(hash + 1));
    const dest = where === '' ? path.join(root, file) : where.startsWith('/') ? path.join(root, where) : path.resolve(root, path.dirname(file), where);
    if (!existsSync(dest)) {
      broken.push(`${file}:${no}: ${link} (no such file)`);
      continue;
    }
    if (anchor && dest.endsWith('.md')) {
      if (!cache.has(dest)) cache.set(dest, anchors(readFileSync(dest, 'utf8')));
      if (!cache.get(dest)!.has(anchor)) broken.push(`${file}:${no}: ${link} (no such heading)`);
    }
  }
  return broken;
}

const pages = [...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'README.md', 'CHANGELOG.md'];

describe('docs links', () => {
  it('slug headings as GitHub does', () => {
    expect(slug('Behaviour changes')).toBe('behaviour-changes');
    expect(slug('`tsgi serve <module>[:<export>] [options]`')).toBe('tsgi-serve-moduleexport-options');
    expect(slug('`Request.application` & `callOnClose()`')).toBe('requestapplication--callonclose');
    expect(slug('snake_case and *emphasis*, [a link](x.md) — 0.2.0')).toBe('snake_case-and-emphasis-a-link--020');
    expect([...anchors('# A\n## A\n```\n# A\n```\n### A!\n<a name="here"></a>')]).toEqual(['a', 'a-1', 'a-2', 'here']);
  });

  it('find a link to a missing file or heading', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'tsgi-links-'));
    try {
      mkdirSync(path.join(root, 'docs'));
      writeFileSync(path.join(root, 'docs/a.md'), '# A\n## Two words\n');
      writeFileSync(
        path.join(root, 'docs/b.md'),
        [
          '[ok](a.md#two-words) [ok](#b) [ok](/docs/a.md) [ok](https://github.com/tsgi/tsgi/blob/main/docs/a.md#a) [off](https://example.com/x.md)',
          '# B',
          '[gone](c.md) [gone](a.md#three-words) [gone](#nowhere) [gone](https://github.com/tsgi/tsgi/blob/main/docs/c.md)',
          '`[code](c.md)`',
          '```',
          '[fenced](c.md)',
          '```',
          '[ref]: ./c.md',
        ].join('\n'),
      );
      expect(brokenLinks(root, 'docs/b.md')).toEqual([
        'docs/b.md:3: c.md (no such file)',
        'docs/b.md:3: a.md#three-words (no such heading)',
        'docs/b.md:3: #nowhere (no such heading)',
        'docs/b.md:3: https://github.com/tsgi/tsgi/blob/main/docs/c.md (no such file)',
        'docs/b.md:8: ./c.md (no such file)',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each(pages)('%s links to files and headings that exist', (page) => {
    expect(brokenLinks(ROOT, page)).toEqual([]);
  });
});
