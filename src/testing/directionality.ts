/**
 * The directionality of a form control (HTML Living Standard §3.2.6.4, the `dir` attribute),
 * which a form sends under a control's `dirname` (§4.10.21.4).
 *
 * @module
 */
import { textContent } from 'domutils';
import { type Element, attribute } from './html.ts';

/** A letter of a right-to-left script: bidirectional class R or AL. */
const RTL =
  /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Mende_Kikakui}\p{Script=Imperial_Aramaic}\p{Script=Phoenician}\p{Script=Avestan}]/u;
/** A letter of any script: strong left-to-right unless {@link RTL}. */
const LETTER = /\p{L}/u;

/** The direction of `text` by its first strongly directional character; `null` when it has none. */
function textDirection(text: string): 'ltr' | 'rtl' | null {
  for (const char of text) {
    if (RTL.test(char)) return 'rtl';
    if (LETTER.test(char)) return 'ltr';
  }
  return null;
}

/**
 * The directionality of `element` holding `value` (its current value, for an input or a
 * textarea): its `dir` attribute (`ltr`, `rtl`; `auto`: the first strong character of
 * `value`, left-to-right when none), else a telephone input's `ltr`, else its nearest
 * ancestor's with a `dir` (`auto` there: its text), else `ltr`, the document's.
 */
export function directionality(element: Element, type: string, value: string): 'ltr' | 'rtl' {
  const own = attribute(element, 'dir')?.toLowerCase();
  if (own === 'ltr' || own === 'rtl') return own;
  if (own === 'auto') return textDirection(value) ?? 'ltr';
  if (type === 'tel') return 'ltr';
  for (let node = element.parent; node && node.type !== 'root'; node = node.parent) {
    const dir = attribute(node as Element, 'dir')?.toLowerCase();
    if (dir === 'ltr' || dir === 'rtl') return dir;
    if (dir === 'auto') return textDirection(textContent(node as Element)) ?? 'ltr';
  }
  return 'ltr';
}

