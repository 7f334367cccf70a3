/**
 * A form of a test response, filled in and submitted as a browser would (WebTest's `Form`).
 *
 * @module
 */
import type { FileSpec } from '../forms/encode.ts';
import { REQUEST_OPTIONS, type RequestOptions } from './options.ts';
import { type OptionNames, checkOptions, truthyOption } from '../gateway/option-names.ts';
import { type Control, entries, formControls, isSubmitter, sanitized, selectOptions } from './form-controls.ts';
import { formMethod, givenAction, normaliseEnctype, submission } from './form-submit.ts';
import { documentBaseLoading, documentBaseUrl, pageUrl, pageUrlLoading } from './page-url.ts';
import { type Document, type Element, attribute, visibleText } from './html.ts';
import { TestClientError } from './error.ts';
import { encodingLabel, formEncoderLoading, formEncoding } from './form-encoding.ts';

/** How a form sends a request: the client's `request(method, url, options)`. */
export type Send<R> = (method: string, url: string, options: RequestOptions) => Promise<R>;

/** Options of {@link HtmlForm.set}. */
export interface SetOptions {
  /**
   * Which control of that name, counting from 0 (hidden ones included), when several share it;
   * default the first a user sees: the first that is not hidden, else the first.
   */
  index?: number | undefined;
  /**
   * Also set a hidden, read-only or disabled control, which a user could not change. Default
   * false: setting one throws a `TestClientError` that says so (WebTest's `force_value` does it on purpose).
   */
  force?: boolean | undefined;
}

/** Every option of {@link SetOptions}, checked by `form.set` (`checkOptions`); `tsc` fails when it and the type differ. */
const SET_OPTIONS = { index: true, force: true } as const satisfies OptionNames<SetOptions>;

/**
 * A `<form>` of an HTML page, its controls' values held here (WebTest's `Form`): read them
 * with {@link HtmlForm.get}, change them with {@link HtmlForm.set} and
 * {@link HtmlForm.upload}, and send the form with {@link HtmlForm.submit}, which builds the
 * request as the HTML standard says (§4.10.21): method, action and enctype of the form or of
 * the button used, disabled and unchecked controls left out, every selected option sent.
 * Got from `res.form()` or `res.forms`.
 *
 * @example
 * ```ts
 * const page = await client.get('/login');
 * const res = await page.form('#login').set('user', 'ada').set('remember', true).submit();
 * ```
 */
export class HtmlForm<R = unknown> {
  /** The `<form>` element. */
  readonly element: Element;
  readonly #controls: Control[];
  readonly #pageUrl: string;
  /** The page's document, whose base URL (its `<base href>`) a non-empty action resolves against (`documentBaseUrl`). */
  readonly #document: Document;
  readonly #send: Send<R>;
  /** The encoding the form is submitted in: the page's charset, or the one its `accept-charset` names. */
  readonly #encoding: string;
  /** The encoding the page was decoded in, which the query of its action is written in. */
  readonly #documentEncoding: string;

  /**
   * Made by `res.forms` and `res.form()`, from the page's parsed document; `documentEncoding` is
   * the charset the page was decoded in (default UTF-8).
   */
  constructor(document: Document, element: Element, pageUrl: string, send: Send<R>, documentEncoding = 'utf-8') {
    this.element = element;
    this.#encoding = formEncoding(element, documentEncoding);
    this.#documentEncoding = documentEncoding;
    this.#controls = formControls(document, element);
    this.#pageUrl = pageUrl;
    this.#document = document;
    this.#send = send;
  }

  /** The page's base URL, read when an action is resolved: its `<base href>` may need iconv-lite loaded first (`documentBaseLoading`). */
  #baseUrl(): string {
    return documentBaseUrl(this.#document, this.#pageUrl, this.#documentEncoding);
  }

  /** The form's `id`, or `null`. */
  get id(): string | null {
    return attribute(this.element, 'id');
  }

  /**
   * `GET`, `POST` or `DIALOG`: the `method` attribute, default `GET` (HTML's `form.method`, upper
   * case). A `DIALOG` form sends no request: `submit()` rejects.
   */
  get method(): string {
    return formMethod(this.element);
  }

  /**
   * The `action` resolved against the page's base URL (its `<base href>`, else its URL), the
   * non-ASCII text of its query in the page's encoding, as a browser parses it; the page itself
   * when empty or absent.
   *
   * @throws TestClientError for a query with non-ASCII text in an East Asian multi-byte page
   *   encoding (Shift_JIS, Big5…) of a page the client did not answer whole (`buffered: false`)
   *   while iconv-lite, which writes it, is not loaded yet: the client loads it before it answers
   *   a whole page in such an encoding.
   */
  get action(): string {
    const action = attribute(this.element, 'action');
    if (!action) return this.#pageUrl;
    if ((pageUrlLoading(action, this.#documentEncoding) ?? documentBaseLoading(this.#document, this.#documentEncoding)) !== null) {
      throw new TestClientError(`form.action: the page is in ${this.#documentEncoding}, which its action's query is written in, by iconv-lite, not loaded yet for a page read with buffered: false: read res.url of the submission instead`);
    }
    return pageUrl(action, this.#baseUrl(), this.#documentEncoding).href;
  }

  /** The `enctype`: `application/x-www-form-urlencoded` (default), `multipart/form-data` or `text/plain`. */
  get enctype(): string {
    return normaliseEnctype(attribute(this.element, 'enctype'));
  }

  /** The labels of the submit buttons (a button's text, an image button's `alt`, an input's value), in order. */
  get buttonLabels(): string[] {
    return this.#controls.filter(isSubmitter).map(buttonLabel);
  }

  /** The names of the controls, each once, in page order. */
  get fields(): string[] {
    return [...new Set(this.#controls.filter((c) => c.name).map((c) => c.name))];
  }

  #named(name: string): Control[] {
    const found = this.#controls.filter((c) => c.name === name);
    if (found.length === 0) throw new TestClientError(`the form has no field ${JSON.stringify(name)} (fields: ${this.fields.join(', ') || 'none'})`);
    return found;
  }

  /**
   * The current value of a field (WebTest's `form['name'].value`), the one a user sees of
   * those sharing its name, unless `index` names another (see {@link HtmlForm.set}): a text field's or
   * textarea's text (line breaks as written; `submit()` sends them as CRLF), a checked
   * checkbox's or radio's value (`null` when none is checked), a select's first selected
   * option. A disabled field answers its value too, though `submit()` leaves it out;
   * {@link HtmlForm.getAll} lists only what would be sent.
   *
   * @throws TestClientError when the form has no such field.
   */
  get(name: string, index?: number): string | null {
    const controls = this.#named(name);
    const first = meant(controls, index);
    if (first.type === 'radio') return controls.find((c) => c.type === 'radio' && c.checked)?.value ?? null;
    const control = index === undefined ? first : controls[index];
    if (!control) return null;
    if (control.type === 'checkbox') return control.checked ? control.value : null;
    if (control.type === 'select') return control.options.find((o) => o.selected)?.value ?? null;
    return control.value;
  }

  /** Every value the field would send (the selected options of a multiple select, checked boxes…). */
  getAll(name: string): string[] {
    this.#named(name);
    const values: string[] = [];
    for (const [key, value] of entries(this.#controls, null, encodingLabel(this.#encoding))) if (key === name && typeof value === 'string') values.push(value);
    return values;
  }

  /**
   * Sets a field as a user would: the control of that name a user sees, not a hidden field
   * that shares its name (the unchecked value Rails' `check_box` writes before a checkbox), unless
   * `options.index` names one. The text of a text field or textarea (an input's as its type
   * sanitises it, as a browser does: no line breaks in a text field, a range kept on its
   * scale, an invalid number emptied); `true`/`false`
   * to check or uncheck a checkbox (the one at `options.index`), the value of the checkbox (or
   * radio) to check, or a list of values: exactly the checkboxes of that name to leave checked
   * (a list is the whole choice); the value (or label: its `label` attribute, else its text) of the option to select, or a
   * list for a multiple select.
   *
   * @throws TestClientError for a field the form does not have, an option, radio or checkbox
   *   value it does not offer, a file input (use {@link HtmlForm.upload}), or a hidden,
   *   read-only or disabled control without `options.force`; TypeError for options that are
   *   not a plain object or hold an unknown key (`form.set: unknown option "forse"`), or for a
   *   `force` that is truthy but not `true` (`'false'`).
   */
  set(name: string, value: string | boolean | readonly string[], options: SetOptions = {}): this {
    checkOptions('form.set', options, SET_OPTIONS, 'third');
    const controls = this.#named(name);
    const first = meant(controls, options.index);
    if (first.type === 'radio') {
      const radios = controls.filter((c) => c.type === 'radio');
      const target = radios.find((c) => c.value === value);
      if (!target) throw new TestClientError(`no radio ${JSON.stringify(name)} with value ${JSON.stringify(value)} (values: ${radios.map((c) => c.value).join(', ')})`);
      this.#assertEditable(target, options);
      for (const control of radios) control.checked = control === target;
      return this;
    }
    if (first.type === 'checkbox' && typeof value !== 'boolean') {
      const boxes = controls.filter((c) => c.type === 'checkbox');
      const wanted = typeof value === 'string' ? [value] : value;
      const targets = wanted.map((v) => {
        const box = boxes.find((c) => c.value === v);
        if (!box) throw new TestClientError(`no checkbox ${JSON.stringify(name)} with value ${JSON.stringify(v)} (values: ${boxes.map((c) => c.value).join(', ')})`);
        return box;
      });
      // a value checks its box; a list is the whole choice, as for a multiple select
      const next = (box: Control) => targets.includes(box) || (typeof value === 'string' && box.checked);
      for (const box of boxes) if (box.checked !== next(box)) this.#assertEditable(box, options);
      for (const box of boxes) box.checked = next(box);
      return this;
    }
    const control = options.index === undefined ? first : controls[options.index];
    if (!control) throw new TestClientError(`the form has no field ${JSON.stringify(name)} at index ${options.index}`);
    this.#assertEditable(control, options);
    if (control.type === 'checkbox') control.checked = Boolean(value);
    else if (control.type === 'select') selectOptions(control, value);
    else if (control.type === 'file') throw new TestClientError(`${JSON.stringify(name)} is a file input: use upload()`);
    else control.value = control.element.name === 'input' ? sanitized(control.type, String(value), control.element) : String(value);
    return this;
  }

  /**
   * Chooses the files of a file input (replacing any chosen before; `[]` none): several only
   * for an input with `multiple`, as a browser's file picker lets a user choose them (HTML
   * §4.10.5.1.17).
   *
   * @throws TestClientError for a field that is no file input, a disabled one, or several files
   *   for an input without `multiple`.
   */
  upload(name: string, files: FileSpec | readonly FileSpec[], index = 0): this {
    const control = this.#named(name).filter((c) => c.type === 'file')[index];
    if (!control) throw new TestClientError(`${JSON.stringify(name)} is not a file input`);
    this.#assertEditable(control, {});
    const chosen = Array.isArray(files) ? [...(files as FileSpec[])] : [files as FileSpec];
    if (chosen.length > 1 && !control.multiple) {
      throw new TestClientError(`${JSON.stringify(name)} takes one file (no multiple attribute), not ${chosen.length}: a browser lets a user choose one`);
    }
    control.files = chosen;
    return this;
  }

  #assertEditable(control: Control, options: SetOptions): void {
    // `'false'` is truthy: checked with one comparison, on the branch a truthy value takes anyway.
    if (truthyOption('form.set', 'force', options.force)) return;
    const why = control.disabled ? 'disabled' : control.readOnly ? 'read-only' : control.type === 'hidden' ? 'hidden' : null;
    if (why) throw new TestClientError(`the field ${JSON.stringify(control.name)} is ${why}: a user cannot change it (pass { force: true })`);
  }

  /** The button `button` names, else the default button; a disabled default one throws (`submit`) or is none (`values`, with `implicit` false). */
  #submitter(button: string | undefined, implicit = true): Control | null {
    if (button === undefined) {
      // Implicit submission (Enter): the default button, the first submit button; a disabled one submits nothing.
      const first = this.#controls.find(isSubmitter);
      if (first?.disabled) {
        if (!implicit) return null;
        const label = buttonLabel(first);
        throw new TestClientError(`the form's default button ${JSON.stringify(label || first.name)} is disabled: Enter does not submit the form (HTML §4.10.21.2); name the button to press`);
      }
      return first ?? null;
    }
    const submitters = this.#controls.filter((c) => isSubmitter(c) && !c.disabled);
    const found =
      submitters.find((c) => c.name === button) ??
      submitters.find((c) => buttonLabel(c) === button);
    if (!found) {
      const names = submitters.map((c) => c.name || buttonLabel(c));
      throw new TestClientError(`the form has no submit button ${JSON.stringify(button)} (buttons: ${names.join(', ') || 'none'})`);
    }
    return found;
  }

  /** The entries the form would send, in order, with `button` (a name or label) as the button used; without one, the default button (none when it is disabled). */
  values(button?: string): Array<[string, string | FileSpec]> {
    return entries(this.#controls, this.#submitter(button, false), encodingLabel(this.#encoding));
  }

  /**
   * Submits the form with the button named (by `name`, or by its label) or, by default, its
   * first submit button (as pressing Enter does; `form.submit(options)` too); `options` are those of any request
   * (`status`, `headers`, `followRedirects`…). A `GET` form puts its entries in the action's
   * query (replacing it); a `POST` form sends them urlencoded or as `multipart/form-data`
   * (fields before files) or as `text/plain`, as its `enctype` says. The query, a urlencoded body, a
   * `text/plain` body and a multipart body's names, filenames and text values are in the encoding a browser picks (HTML
   * §4.10.21.7): the page's charset (its `Content-Type`, else the `<meta charset>` in its first
   * 1024 bytes: `res.textBody`), or the first one the form's `accept-charset` names, a
   * character it cannot hold as `&#N;`; a
   * hidden `_charset_` field sends its name (`Shift_JIS`). It is sent as a browser sends it, from the
   * page's URL (`from`, see `RequestOptions.from`): `Origin` on a POST, the `Sec-Fetch-*`
   * fields, the cookies `SameSite` lets through.
   *
   * @returns what the client answers.
   * @throws TestClientError when there is no such button, or, without one named, when the
   *   first submit button is disabled (Enter does not submit then, HTML §4.10.21.2), and (rejects)
   *   for the `dialog` method (the form's, or the button's `formmethod`: a browser closes the
   *   form's `<dialog>` and sends no request), and
   *   for a page in an encoding it cannot write (`iso-2022-jp`, `gb18030`); TypeError (rejects) for options
   *   that are not a plain object or hold an unknown key (`form.submit: unknown option
   *   "stauts": did you mean "status"?`).
   */
  submit(button?: string | RequestOptions, options: RequestOptions = {}): Promise<R> {
    if (typeof button === 'object') return this.submit(undefined, button);
    try {
      checkOptions('form.submit', options, REQUEST_OPTIONS);
    } catch (error) {
      return Promise.reject(error);
    }
    const submitter = this.#submitter(button);
    // A browser's navigation from this page (see RequestOptions.from), unless the call says another page.
    const list = entries(this.#controls, submitter, encodingLabel(this.#encoding));
    const send = (): Promise<R> => {
      let request: ReturnType<typeof submission>;
      try {
        request = submission(this.element, submitter, list, { page: this.#pageUrl, base: this.#baseUrl(), encoding: this.#documentEncoding }, { ...options, from: options.from ?? this.#pageUrl }, this.#encoding);
      } catch (error) {
        return Promise.reject(error); // an encoding this client cannot write
      }
      return this.#send(request.method, request.url, request.options);
    };
    // A page in Shift_JIS, EUC-KR, Big5…: iconv-lite loads with the first such form (iconv-loader.ts).
    // The action's query is written in the page's encoding, which may need it too (page-url.ts).
    const loading =
      formEncoderLoading(this.#encoding) ?? pageUrlLoading(givenAction(this.element, submitter), this.#documentEncoding) ?? documentBaseLoading(this.#document, this.#documentEncoding);
    return loading === null ? send() : loading.then(send);
  }
}

/**
 * The control of `controls` (those of one name, in page order) that `get` and `set` mean: the one
 * at `index` when given, else the first a user sees, the first that is not hidden (a hidden
 * field of its name backs it: Rails' `check_box` sends that `0` when the box is unchecked),
 * else the first. With an `index`, the first of all, whose type says how the name is set.
 */
function meant(controls: readonly Control[], index: number | undefined): Control {
  return (index === undefined ? controls.find((c) => c.type !== 'hidden') : undefined) ?? controls[0]!;
}

/** What a submit button shows: a `<button>`'s text, an image button's `alt` (HTML's Image Button state: its textual label), an input's `value`. */
function buttonLabel(control: Control): string {
  if (control.element.name === 'button') return visibleText(control.element);
  return control.type === 'image' ? (attribute(control.element, 'alt') ?? '') : control.value;
}
