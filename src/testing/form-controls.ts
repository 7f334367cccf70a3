/**
 * The controls of an HTML form and the entries they submit (HTML Living Standard §4.10.21.4,
 * "constructing the entry list"), read from a parsed page.
 *
 * @module
 */
import type { FileSpec } from '../forms/encode.ts';
import { type Document, type Element, asciiCollapsedText, attribute, parserFormOwner, select, visibleText } from './html.ts';
import { TestClientError } from './error.ts';
import { DATE_TIME_TYPES, dateTimeValue } from './date-values.ts';
import { directionality } from './directionality.ts';

/** One `<option>` of a select control. */
export interface OptionState {
  value: string;
  /** What a user sees (HTML §4.10.10): the `label` attribute when not empty, else the text. */
  label: string;
  selected: boolean;
  disabled: boolean;
}

/** One control of a form, with the state a user changes. */
export interface Control {
  readonly element: Element;
  /** `input` types in lower case (`text`, `checkbox`, `submit`…), or `select`, `textarea`, `button-submit`… */
  readonly type: string;
  readonly name: string;
  readonly disabled: boolean;
  readonly readOnly: boolean;
  /** Text value; for a checkbox or radio, the value it submits when checked (default `on`). */
  value: string;
  checked: boolean;
  readonly multiple: boolean;
  readonly options: OptionState[];
  files: FileSpec[];
}

const LISTED = 'input, select, textarea, button';
/** The `input` types `readonly` does not apply to (HTML §4.10.5.3.1): a user still changes them. */
const NOT_READONLY = new Set(['hidden', 'range', 'color', 'checkbox', 'radio', 'file', 'submit', 'image', 'reset', 'button']);
const BUTTON_INPUTS = new Set(['submit', 'image', 'reset', 'button']);
/** The controls whose `dirname` sends their directionality: HTML's auto-directionality form-associated elements (§4.10.18.5). */
const DIRNAME_TYPES = new Set(['hidden', 'text', 'search', 'tel', 'url', 'email', 'password', 'submit', 'reset', 'button', 'textarea']);

/** The kind of an `input` (unknown types are `text`, as browsers treat them). */
function inputType(element: Element): string {
  const type = (attribute(element, 'type') ?? 'text').toLowerCase();
  return /^[a-z-]+$/.test(type) ? type : 'text';
}

function optionsOf(element: Element): OptionState[] {
  const options = select(element, 'option').map((option) => ({
    value: attribute(option, 'value') ?? asciiCollapsedText(option), // §4.10.10: the text, ASCII whitespace collapsed
    // §4.10.10: the option's label is its `label` attribute unless that is empty, else its text.
    label: attribute(option, 'label') || visibleText(option),
    selected: attribute(option, 'selected') !== null,
    disabled: attribute(option, 'disabled') !== null || inDisabledGroup(option),
  }));
  // A single select has one option selected at most, the last one marked (§4.10.7 selectedness)…
  if (attribute(element, 'multiple') !== null) return options;
  const marked = options.filter((o) => o.selected);
  for (const option of marked.slice(0, -1)) option.selected = false;
  // …and a drop-down (display size 1) shows its first enabled option when none is; a list box none.
  if (marked.length === 0 && displaySize(element) === 1) {
    const first = options.find((o) => !o.disabled);
    if (first) first.selected = true;
  }
  return options;
}

/** A single select's display size (§4.10.7): its `size` when a valid integer above 0, else 1. */
function displaySize(element: Element): number {
  const size = /^[\t\n\f\r ]*\+?(\d+)/.exec(attribute(element, 'size') ?? '');
  return size && Number(size[1]) > 0 ? Number(size[1]) : 1;
}

/** True when the option is in an `<optgroup disabled>`. */
function inDisabledGroup(option: Element): boolean {
  const parent = option.parent as Element | null;
  return parent?.name === 'optgroup' && attribute(parent, 'disabled') !== null;
}

/**
 * True when an ancestor `<fieldset disabled>` disables `element`: one it is not inside the first
 * `<legend>` child of (HTML §4.10.18.2, "actually disabled"; that legend's controls stay enabled).
 */
function inDisabledFieldset(element: Element): boolean {
  let child: Element = element;
  for (let node = element.parent; node && node.type !== 'root'; child = node as Element, node = node.parent) {
    const parent = node as Element;
    if (parent.name !== 'fieldset' || attribute(parent, 'disabled') === null) continue;
    const legend = parent.children.find((c) => c.type === 'tag' && (c as Element).name === 'legend');
    if (child !== legend) return true;
  }
  return false;
}

/**
 * True when `element` lies inside a `<datalist>`: its options' container, whose other content
 * (a `<select>` kept as a fallback for browsers without datalists, the HTML standard's own
 * example) is no part of the form's entry list (§4.10.21.4).
 */
function inDatalist(element: Element): boolean {
  for (let node = element.parent; node && node.type !== 'root'; node = node.parent) if ((node as Element).name === 'datalist') return true;
  return false;
}

/**
 * The kind of a `<button>`: `button-reset`, `button-button`, else `button-submit`: the missing
 * and the invalid value default of its `type` (HTML §4.10.6), so `type=""` submits.
 */
function buttonType(element: Element): string {
  const type = (attribute(element, 'type') ?? '').toLowerCase();
  return type === 'reset' || type === 'button' ? `button-${type}` : 'button-submit';
}

/** HTML's valid floating-point number (§2.3.4.3). */
const FLOAT = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** ASCII whitespace at either end (HTML's "strip leading and trailing ASCII whitespace"). */
const ENDS = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

/**
 * A range's value (§4.10.5.1.13): a number within `min`..`max` (0..100) on its `step` (1), else
 * the midpoint. The steps count from the step base (§4.10.5.3.8): the `min` attribute, else the
 * `value` attribute the page gave, else 0; so `<input type="range" value="50.5">` holds 50.5.
 */
function rangeValue(element: Element, value: string): string {
  const number = (name: string, fallback: number) => {
    const given = attribute(element, name);
    return given !== null && FLOAT.test(given) ? Number(given) : fallback;
  };
  const min = number('min', 0);
  const max = Math.max(number('max', 100), min);
  let result = FLOAT.test(value) ? Number(value) : min + (max - min) / 2;
  result = Math.min(Math.max(result, min), max);
  const stepText = attribute(element, 'step')?.toLowerCase();
  const step = stepText === 'any' ? 0 : number('step', 1) > 0 ? number('step', 1) : 1;
  if (step > 0) {
    const base = number('min', number('value', 0));
    // The nearest value on the step from the base, the greater of two as near, within the range.
    let onStep = base + Math.round((result - base) / step) * step;
    if (onStep > max) onStep -= step;
    if (onStep < min && onStep + step <= max) onStep += step;
    result = Number(onStep.toPrecision(15)); // 0.3, not 0.30000000000000004
  }
  return String(result);
}

/**
 * An input's value after its type's value sanitization algorithm (HTML §4.10.5.1), as a
 * browser holds and submits it: line breaks dropped from text fields, an e-mail or URL trimmed
 * (each address of a `multiple` e-mail field, joined with commas),
 * a number that is none emptied, a range on its scale (the midpoint by default), a colour in
 * lower case (`#000000` by default), a date or time that is none of its type's emptied (see
 * {@link dateTimeValue}).
 */
export function sanitized(type: string, value: string, element: Element): string {
  switch (type) {
    case 'text':
    case 'search':
    case 'tel':
    case 'password':
      return value.replace(/[\r\n]/g, '');
    case 'email':
      // With `multiple`, a list: each address trimmed, joined with commas (§4.10.5.1.5).
      if (attribute(element, 'multiple') !== null) return value.split(',').map((address) => address.replace(ENDS, '')).join(',');
      return value.replace(/[\r\n]/g, '').replace(ENDS, '');
    case 'url':
      return value.replace(/[\r\n]/g, '').replace(ENDS, '');
    case 'number':
      return FLOAT.test(value) ? value : '';
    case 'range':
      return rangeValue(element, value);
    case 'color':
      return /^#[0-9a-f]{6}$/i.test(value) ? value.toLowerCase() : '#000000';
    default:
      return DATE_TIME_TYPES.has(type) ? dateTimeValue(type, value) : value;
  }
}

function controlOf(element: Element): Control {
  const tag = element.name;
  const type = tag === 'input' ? inputType(element) : tag === 'button' ? buttonType(element) : tag;
  const isCheckable = type === 'checkbox' || type === 'radio';
  const value = tag === 'textarea' ? rawText(element) : (attribute(element, 'value') ?? (isCheckable ? 'on' : ''));
  return {
    element,
    type,
    name: attribute(element, 'name') ?? '',
    disabled: attribute(element, 'disabled') !== null || inDisabledFieldset(element),
    // Only text-like inputs and textareas can be read-only (§4.10.5.3.1); elsewhere the attribute does nothing.
    readOnly: attribute(element, 'readonly') !== null && (tag === 'textarea' || (tag === 'input' && !NOT_READONLY.has(type))),
    value: type === 'select' ? '' : tag === 'input' ? sanitized(type, value, element) : value,
    checked: isCheckable && attribute(element, 'checked') !== null,
    multiple: attribute(element, 'multiple') !== null,
    options: tag === 'select' ? optionsOf(element) : [],
    files: [],
  };
}

/** A textarea's raw text (its initial value: the parser already dropped a leading newline). */
function rawText(element: Element): string {
  let text = '';
  for (const child of element.children) if (child.type === 'text') text += (child as unknown as { data: string }).data;
  return text;
}

/**
 * The controls of `form` in tree order: its descendants, those the parser associated with it
 * where it left them outside it (the rows after a `<form>` opened in a `<table>`:
 * `parserFormOwner`), and elements elsewhere in the page that name it with a `form`
 * attribute; a descendant that names another form belongs there.
 * Each radio group has one radio checked at most, as the parser leaves it (see {@link oneCheckedPerGroup}).
 */
export function formControls(document: Document, form: Element): Control[] {
  const id = attribute(form, 'id');
  const controls = select(document, LISTED)
    .filter((element) => {
      const owner = attribute(element, 'form');
      if (owner !== null) return id !== null && owner === id;
      // The form the parser gave it (a form opened in a <table> owns the rows after it), else its nearest form ancestor.
      const parsedIn = parserFormOwner(element);
      if (parsedIn !== undefined) return parsedIn === form;
      for (let node = element.parent; node; node = node.parent) if (node === form) return true;
      return false;
    })
    .map(controlOf);
  return oneCheckedPerGroup(controls);
}

/**
 * `controls` (one form's, in tree order) with the radios of a group (the same non-empty `name`,
 * case-sensitively) checked as the parser leaves them: a radio checked as it joins its form
 * unchecks the others of its group (HTML §4.10.5.1.16), so of several marked `checked` only
 * the last stays checked, as in a browser.
 */
function oneCheckedPerGroup(controls: Control[]): Control[] {
  const checked = new Map<string, Control>();
  for (const control of controls) {
    if (control.type !== 'radio' || !control.checked || control.name === '') continue;
    const before = checked.get(control.name);
    if (before !== undefined) before.checked = false;
    checked.set(control.name, control);
  }
  return controls;
}

/** True for a control that can submit its form: a submit button, or an image input. */
export function isSubmitter(control: Control): boolean {
  return control.type === 'submit' || control.type === 'image' || control.type === 'button-submit';
}

/** True for a button that submits nothing itself (reset, plain buttons, submitters not used). */
function isButton(control: Control): boolean {
  return BUTTON_INPUTS.has(control.type) || control.type.startsWith('button-');
}

/**
 * The entries `controls` submit with `submitter` as the button used (HTML §4.10.21.4):
 * disabled and nameless controls skipped, and those inside a `<datalist>`, checkboxes and radios only when checked, every
 * selected option, the submitter's own name and value (an image button's `.x` and `.y`), a
 * file input's files (an empty file when none was chosen), a hidden `_charset_` field (any
 * case) as `charset`, the name of the encoding the form is sent in (default `UTF-8`), and after a text control with a `dirname`,
 * that name with the control's directionality (`ltr` or `rtl`, see {@link directionality}).
 */
export function entries(controls: Control[], submitter: Control | null, charset = 'UTF-8'): Array<[string, string | FileSpec]> {
  const list: Array<[string, string | FileSpec]> = [];
  for (const control of controls) {
    if (control.disabled || inDatalist(control.element)) continue;
    if (isButton(control) && control !== submitter) continue;
    if (control.type === 'image') {
      const prefix = control.name ? `${control.name}.` : '';
      list.push([`${prefix}x`, '0'], [`${prefix}y`, '0']);
      continue;
    }
    if (!control.name) continue;
    if ((control.type === 'checkbox' || control.type === 'radio') && !control.checked) continue;
    if (control.type === 'select') {
      for (const option of control.options) if (option.selected && !option.disabled) list.push([control.name, option.value]);
    } else if (control.type === 'hidden' && control.name.toLowerCase() === '_charset_') {
      // The encoding the form is sent in, whatever the value says (§4.10.21.4).
      list.push([control.name, charset]);
    } else if (control.type === 'file') {
      if (control.files.length === 0) list.push([control.name, { filename: '', content: new Uint8Array(0), contentType: 'application/octet-stream' }]);
      for (const file of control.files) list.push([control.name, file]);
    } else {
      list.push([control.name, control.value]);
    }
    const dirname = attribute(control.element, 'dirname');
    if (dirname && DIRNAME_TYPES.has(control.type)) list.push([dirname, directionality(control.element, control.type, control.value)]);
  }
  return list;
}

/**
 * Selects the options of a select control by value (or label): one, or a list for a multiple select.
 *
 * @throws TestClientError for an option it does not offer (or a disabled one), or several for a single select.
 */
export function selectOptions(control: Control, value: string | boolean | readonly string[]): void {
  const wanted = Array.isArray(value) ? (value as string[]) : [String(value)];
  if (!control.multiple && wanted.length !== 1) throw new TestClientError(`${JSON.stringify(control.name)} selects one option, not ${wanted.length}`);
  const chosen = wanted.map((v) => {
    const option = control.options.find((o) => o.value === v) ?? control.options.find((o) => o.label === v);
    if (!option || option.disabled) {
      throw new TestClientError(`${JSON.stringify(control.name)} has no option ${JSON.stringify(v)} (options: ${control.options.map((o) => o.value).join(', ')})`);
    }
    return option;
  });
  for (const option of control.options) option.selected = chosen.includes(option);
}
