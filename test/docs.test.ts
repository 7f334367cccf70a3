/**
 * The docs stay true to the code: every `import { … } from 'tsgi…'` in docs/*.md and the
 * README names what that entry point exports, and every relative link in docs/ reaches a file
 * (and a heading, for `#anchors`) that exists; and the examples of docs/sessions.md run as
 * written.
 */
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = path.join(ROOT, 'docs');
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
const texts = new Map([...pages.map((p) => [`docs/${p}`, readFileSync(path.join(DOCS, p), 'utf8')] as const), ['README.md', readFileSync(path.join(ROOT, 'README.md'), 'utf8')]]);

/** GitHub's anchor of a heading: lower-cased, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe('docs', () => {
  it('import only names their entry point exports', async () => {
    const wrong: string[] = [];
    for (const [file, text] of texts) {
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(tsgi(?:\/\w+)?)'/g)) {
        const module = (await import(m[2]!)) as Record<string, unknown>;
        const entry = m[2] === 'tsgi' ? 'src/index.ts' : `src/entries/${m[2]!.slice(5)}.ts`;
        const source = readFileSync(path.join(ROOT, entry), 'utf8');
        for (const raw of m[1]!.split(',')) {
          const name = raw.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
          if (name && !(name in module) && !new RegExp(`\\b${name}\\b`).test(source)) wrong.push(`${file}: ${name} from '${m[2]}'`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('name source files that exist', () => {
    const missing = [...texts].flatMap(([file, text]) =>
      [...text.matchAll(/\b(src|examples|bench|test)\/[\w/.-]+\.ts\b/g)].map((m) => m[0]).filter((p) => !existsSync(path.join(ROOT, p))).map((p) => `${file}: ${p}`),
    );
    expect(missing).toEqual([]);
  });

  it('link to files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = texts.get(`docs/${page}`)!;
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1]!;
        if (/^[a-z]+:/.test(link)) continue;
        const [target, anchor] = link.split('#') as [string, string | undefined];
        const file = target === '' ? path.join(DOCS, page) : path.resolve(DOCS, target);
        if (!existsSync(file)) {
          broken.push(`docs/${page}: ${link}`);
          continue;
        }
        if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`docs/${page}: ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('sessions.md: the Use example, logged in through the Testing example, shows the flash once', async () => {
    const text = texts.get('docs/sessions.md')!;
    const block = (heading: string) => {
      const section = text.slice(text.indexOf(`\n## ${heading}\n`));
      return /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-'));
    const file = path.join(dir, 'sessions.ts');
    writeFileSync(
      file,
      `${block('Use')}\n${block('Testing')}\nexport const shown = [home.textBody, (await client.get('/')).textBody];\n`,
    );
    process.env.SESSION_SECRET ??= 'a session secret for the docs test, 32+ bytes';
    try {
      const { shown } = (await import(file)) as { shown: string[] };
      expect(shown).toEqual(['[info] Welcome, bob\nHello bob', '\nHello bob']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
