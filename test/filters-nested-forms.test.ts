/**
 * rewriteHtml on a `<form>` start tag inside an open form: browsers drop it (the tree
 * builder's form element pointer, WHATWG HTML §13.2.6.4.7 "in body"), so the first `</form>`
 * ends the outer form. The rewriter's selectors and handlers see the forms the browser builds:
 * the dropped tag passes through untouched, matched by nothing. And on a `<form>` directly in a
 * table, outside a cell, which browsers insert empty and pop at once (§13.2.6.4.9 "in table"),
 * the fields after it its own through the same pointer. Over a real socket, the page sent in
 * small chunks (tags split between them).
 */
import { describe, expect, it } from 'vitest';
import { type ElementHandler, rewriteHtml } from 'tsgi/proxy';
import { chunkedPage, servedBody } from './filter-helpers.ts';

/** The body of `html` rewritten with `elements`, over a socket on 127.0.0.1. */
const rewritten = (html: string, elements: Record<string, ElementHandler>): Promise<string> =>
  servedBody(rewriteHtml(chunkedPage(html), { elements }));

const NESTED = '<!DOCTYPE html><p>text<form id=outer action=/a><input name=x><form id=inner action=/b><input name=y></form><input name=z></form><p>end';

describe('rewriteHtml and a form inside an open form', () => {
  it('matches only the outer form, whose append() lands before the first </form>, where browsers end it', async () => {
    const seen: string[] = [];
    const out = await rewritten(NESTED, {
      form: (el) => {
        seen.push(el.getAttribute('id') ?? '');
        el.append('<input type=hidden name=csrf value=t>', { html: true });
      },
    });
    expect(seen).toEqual(['outer']);
    expect(out).toBe(
      '<!DOCTYPE html><p>text<form id=outer action=/a><input name=x><form id=inner action=/b><input name=y><input type=hidden name=csrf value=t></form><input name=z></form><p>end',
    );
  });

  it('remove() and after() on the outer form act up to the first </form>, where browsers end it', async () => {
    const removed = await rewritten(NESTED, { 'form[id=outer]': (el) => el.remove() });
    expect(removed).toBe('<!DOCTYPE html><p>text<input name=z></form><p>end');
    const after = await rewritten(NESTED, { 'form[id=outer]': (el) => el.after('|') });
    expect(after).toBe('<!DOCTYPE html><p>text<form id=outer action=/a><input name=x><form id=inner action=/b><input name=y></form>|<input name=z></form><p>end');
  });

  it('drops a later <form> while the form pointer is set, even once its form was ended by another end tag, until a </form>', async () => {
    const seen: string[] = [];
    const html = '<div><form id=one></div><form id=two></form><form id=three></form>';
    await rewritten(html, { form: (el) => seen.push(el.getAttribute('id') ?? '') });
    expect(seen).toEqual(['one', 'three']);
  });

  it('keeps each form inside a template, which sets no form pointer', async () => {
    const seen: string[] = [];
    await rewritten('<form id=page><template><form id=t1></form><form id=t2></form></template></form>', { form: (el) => seen.push(el.getAttribute('id') ?? '') });
    expect(seen).toEqual(['page', 't1', 't2']);
  });

  describe('a <form> directly in a table, which browsers insert empty and pop at once', () => {
    const TABLE = '<table><form id=f action=/x><input type=hidden name=a><tr><td><input name=q></td></tr></form></table>';

    it("inserts append()'s fields right after its start tag, where they are the form's as those that follow are", async () => {
      const out = await rewritten(TABLE, { form: (el) => el.append('<input type=hidden name=csrf value=t>', { html: true }) });
      expect(out).toBe('<table><form id=f action=/x><input type=hidden name=csrf value=t><input type=hidden name=a><tr><td><input name=q></td></tr></form></table>');
    });

    it('writes no </form> for after(), which would take the fields that follow from the form, and remove() takes the start tag alone', async () => {
      expect(await rewritten(TABLE, { form: (el) => el.after('|') })).toBe('<table><form id=f action=/x>|<input type=hidden name=a><tr><td><input name=q></td></tr></form></table>');
      expect(await rewritten(TABLE, { form: (el) => el.remove() })).toBe('<table><input type=hidden name=a><tr><td><input name=q></td></tr></form></table>');
    });

    it('in a row, and in a div the table fosters out, a </form> ends nothing that is open', async () => {
      const seen: string[] = [];
      const out = await rewritten('<table><tr><form id=r><td>x</td></form></tr></table><table><div id=d><form id=f><p>x</form>y</div></table>', {
        form: (el) => seen.push(el.getAttribute('id') ?? ''),
        'p, div': (el) => el.append('|'),
      });
      expect(seen).toEqual(['r', 'f']);
      expect(out).toBe('<table><tr><form id=r><td>x</td></form></tr></table><table><div id=d><form id=f><p>x</form>y||</div></table>');
    });

    it('drops it while the form pointer is set or a template is open, as "in table" does; in a cell it is a form as anywhere', async () => {
      const seen: string[] = [];
      const html = '<table><form id=one><tr><td>x</table><form id=two><template><table><form id=t></table></template></form><table><td><form id=cell></form></table>';
      await rewritten(html, { form: (el) => seen.push(el.getAttribute('id') ?? '') });
      expect(seen).toEqual(['one', 'cell']);
    });
  });
});
