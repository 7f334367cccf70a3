/**
 * tsgi/testing's forms and links against the HTML standard's rules: which controls are disabled,
 * which buttons submit, which options a select starts with (§4.10.18.2, §4.10.6, §4.10.7), the
 * base URL links and actions resolve against (§2.4.1), the schemes followed.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';

/** Serves `body` at `/` and under `/catalogue/`, and echoes what a form sends anywhere else. */
const appWith = (body: string) =>
  Request.application(async (req) => {
    if (req.pathInfo === '/' || req.pathInfo.startsWith('/catalogue/')) return new Response(`<!doctype html><title>t</title>${body}`, { contentType: 'text/html' });
    return Response.json({ method: req.method, query: req.queryString, body: await req.text() });
  });

async function sent(body: string, button?: string): Promise<Array<[string, string]>> {
  const page = await new TestClient(appWith(body)).get('/');
  const res = await page.form().submit(button);
  const { method, query, body: text } = (await res.json()) as { method: string; query: string; body: string };
  return [...new URLSearchParams(method === 'GET' ? query : text)];
}

describe('forms by the HTML standard', () => {
  it('sends the controls in the first legend of a disabled fieldset, which it does not disable (§4.10.18.2)', async () => {
    const form = `<form method="post" action="/save"><fieldset disabled>
      <legend><input name="inLegend" value="l"></legend><input name="inFieldset" value="f">
      <legend><input name="inSecondLegend" value="s"></legend></fieldset></form>`;
    expect(await sent(form)).toEqual([['inLegend', 'l']]);
  });

  it('takes a <button> with a type it does not know, or an empty one, for a submit button (§4.10.6: the invalid value default)', async () => {
    const form = `<form method="post" action="/save"><input name="q" value="z">
      <button type="" name="first" value="1">First</button><button type="sumbit" name="second" value="2">Second</button></form>`;
    expect(await sent(form)).toEqual([['q', 'z'], ['first', '1']]);
    expect(await sent(form, 'Second')).toEqual([['q', 'z'], ['second', '2']]);
  });

  it('sends a named submitter without a value attribute as its name and an empty value (§4.10.21.4: the button\'s value is the empty string)', async () => {
    const form = `<form method="post" action="/save"><input name="q" value="z">
      <button name="go">Go</button><input type="submit" name="send"><input type="submit" value="Nameless"></form>`;
    expect(await sent(form)).toEqual([['q', 'z'], ['go', '']]);
    expect(await sent(form, 'send')).toEqual([['q', 'z'], ['send', '']]);
    expect(await sent(form, 'Nameless')).toEqual([['q', 'z']]);
  });

  it('sends one option of a single select: the last marked selected, and none by default in a list box (§4.10.7)', async () => {
    const form = `<form method="post" action="/save">
      <select name="two"><option selected>a</option><option selected>b</option></select>
      <select name="box" size="3"><option>x</option><option>y</option></select>
      <select name="one" size="1"><option>p</option><option>q</option></select></form>`;
    expect(await sent(form)).toEqual([['two', 'b'], ['one', 'p']]);
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().get('two')).toBe('b');
    expect(page.form().get('box')).toBeNull();
  });

  it('keeps one radio of a group checked, the last the page marks, as the parser leaves it (§4.10.5.1.16)', async () => {
    const form = `<form method="post" action="/save">
      <input type="radio" name="size" value="s" checked><input type="radio" name="size" value="m" checked>
      <input type="radio" name="Size" value="l" checked><input type="radio" name="" value="x" checked><input type="radio" value="y" checked></form>`;
    expect(await sent(form)).toEqual([['size', 'm'], ['Size', 'l']]);
    const page = await new TestClient(appWith(form)).get('/');
    expect([page.form().get('size'), page.form().getAll('size')]).toEqual(['m', ['m']]);
  });

  it('sends a hidden _charset_ field as the encoding the form is sent in, UTF-8, whatever its value (§4.10.21.4)', async () => {
    const form = `<form method="post" action="/save"><input type="hidden" name="_charset_">
      <input type="hidden" name="_Charset_" value="ISO-8859-1"><input name="_charset_" value="typed"></form>`;
    expect(await sent(form)).toEqual([['_charset_', 'UTF-8'], ['_Charset_', 'UTF-8'], ['_charset_', 'typed']]);
  });

  it('resolves links and form actions against the page’s <base href>, an empty action at the page itself (§2.4.1, §4.10.21.3)', async () => {
    const page = `<base href="/shop/"><a href="cart">Cart</a>
      <form id="add" method="post" action="items"><button>Add</button></form>
      <form id="self" method="post"><button>Again</button></form>`;
    const client = new TestClient(appWith(page));
    const res = await client.get('/catalogue/list?p=1');
    expect(res.form('#add').action).toBe('http://localhost/shop/items');
    expect((await res.form('#add').submit()).url).toBe('http://localhost/shop/items');
    expect((await res.form('#self').submit()).url).toBe('http://localhost/catalogue/list?p=1');
    expect((await res.click('Cart')).url).toBe('http://localhost/shop/cart');
  });


  it('does not submit with the next button when the default (first) button is disabled, as Enter does not (§4.10.21.2)', async () => {
    const form = `<form method="post" action="/save"><input name="q" value="z">
      <button name="save" value="1" disabled>Save</button><button name="delete" value="1">Delete</button></form>`;
    const page = await new TestClient(appWith(form)).get('/');
    await expect(async () => page.form().submit()).rejects.toThrow(
      new TestClientError('the form\'s default button "Save" is disabled: Enter does not submit the form (HTML §4.10.21.2); name the button to press'),
    );
    expect(await sent(form, 'Delete')).toEqual([['q', 'z'], ['delete', '1']]);
    expect(page.form().values()).toEqual([['q', 'z']]);
  });

  it('sends an option without a value attribute as its text with ASCII whitespace collapsed only: a no-break space stays (§4.10.10)', async () => {
    const form = `<form method="post" action="/save"><select name="category">
      <option>Books</option><option selected>&nbsp;&nbsp;Poetry\u3000and  verse </option></select></form>`;
    expect(await sent(form)).toEqual([['category', '\u00a0\u00a0Poetry\u3000and verse']]);
  });

  it('lets a user change a checkbox, radio or select that says readonly, which HTML ignores there (§4.10.5.3.1)', async () => {
    const form = `<form method="post" action="/save"><input type="checkbox" name="agree" readonly>
      <input type="radio" name="size" value="s" readonly checked><input type="radio" name="size" value="m" readonly>
      <select name="lang" readonly><option>en</option><option>fr</option></select><input name="code" value="c" readonly></form>`;
    const page = await new TestClient(appWith(form)).get('/');
    const filled = page.form().set('agree', true).set('size', 'm').set('lang', 'fr');
    expect(() => filled.set('code', 'x')).toThrow(/read-only/);
    const res = await filled.submit();
    expect([...new URLSearchParams(((await res.json()) as { body: string }).body)]).toEqual([['agree', 'on'], ['size', 'm'], ['lang', 'fr'], ['code', 'c']]);
  });

  it('sends an input’s value as a browser sanitises it: a range’s midpoint, a colour’s #000000, no bad number (§4.10.5.1)', async () => {
    const form = `<form method="post" action="/save">
      <input type="range" name="volume"><input type="range" name="stars" min="1" max="4"><input type="range" name="loud" value="150">
      <input type="color" name="ink"><input type="color" name="pen" value="#FF0000">
      <input type="number" name="qty" value="many"><input type="number" name="price" value="2.50">
      <input type="email" name="mail" value=" ada@example.com "><input name="line" value="a&#10;b"></form>`;
    expect(await sent(form)).toEqual([
      ['volume', '50'], ['stars', '3'], ['loud', '100'], ['ink', '#000000'], ['pen', '#ff0000'],
      ['qty', ''], ['price', '2.50'], ['mail', 'ada@example.com'], ['line', 'ab'],
    ]);
    const page = await new TestClient(appWith(form)).get('/');
    const filled = page.form().set('stars', '9').set('line', 'x\ny').set('qty', '2e1');
    expect([filled.get('stars'), filled.get('line'), filled.get('qty')]).toEqual(['4', 'xy', '2e1']);
  });

  it('sends a date or time input’s value as a browser holds it: empty when it is none of its type, a local date and time normalized (§4.10.5.1.7–11)', async () => {
    // The values Chromium sends for these inputs.
    const inputs: Array<[string, string, string]> = [
      ['date', '2024-02-29', '2024-02-29'], ['date', '2023-02-29', ''], ['date', '2024-13-45', ''], ['date', '06/12/2026', ''],
      ['date', '0000-01-01', ''], ['date', '10000-01-01', '10000-01-01'], ['date', ' 2024-01-01', ''], ['date', '2024-1-01', ''],
      ['time', '09:05:00.500', '09:05:00.500'], ['time', '09:05:07', '09:05:07'], ['time', '25:00', ''], ['time', '24:00', ''],
      ['time', '23:59:60', ''], ['time', '09:05:00.1234', ''], ['time', '9:05', ''],
      ['month', '2024-12', '2024-12'], ['month', '2024-1', ''], ['month', '2024-00', ''],
      ['week', '2020-W53', '2020-W53'], ['week', '2026-W53', '2026-W53'], ['week', '2024-W53', ''], ['week', '2024-W00', ''], ['week', '2024-w01', ''],
      ['datetime-local', '2024-01-02 10:00:00.000', '2024-01-02T10:00'], ['datetime-local', '2024-01-02T10:00:30.120', '2024-01-02T10:00:30.12'],
      ['datetime-local', '2024-01-02T10:00:00.100', '2024-01-02T10:00:00.1'], ['datetime-local', '2024-01-02t10:00', ''], ['datetime-local', '2024-01-02T10', ''],
    ];
    const form = `<form method="post" action="/save">${inputs.map(([type, value], i) => `<input type="${type}" name="f${i}" value="${value}">`).join('')}</form>`;
    expect(await sent(form)).toEqual(inputs.map(([, , held], i) => [`f${i}`, held]));
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().set('f0', '12/31/2024').get('f0')).toBe('');
    expect(page.form().set('f0', '2024-12-31').get('f0')).toBe('2024-12-31');
  });

  it('counts a range’s steps from its min, else from the value the page gave (the step base, §4.10.5.3.8), as a browser does', async () => {
    // The values Chromium sends for these inputs.
    const form = `<form method="post" action="/save">
      <input type="range" name="a" value="50.5"><input type="range" name="b" value="7.3" step="0.5"><input type="range" name="c" value="97" step="5">
      <input type="range" name="d" max="9" value="9" step="4"><input type="range" name="e" value="150" step="7"><input type="range" name="f" value="-20" step="7">
      <input type="range" name="g" min="0" value="50.5"><input type="range" name="h" value="abc" step="3"><input type="range" name="i" min="1" max="10" step="4"></form>`;
    expect(await sent(form)).toEqual([['a', '50.5'], ['b', '7.3'], ['c', '97'], ['d', '9'], ['e', '94'], ['f', '1'], ['g', '51'], ['h', '51'], ['i', '5']]);
    const page = await new TestClient(appWith(form)).get('/');
    expect([page.form().set('a', '30').get('a'), page.form().set('c', '40').get('c')]).toEqual(['30.5', '42']);
  });

  it('sends the addresses of a multiple e-mail field each trimmed, joined with commas, as a browser does (§4.10.5.1.5)', async () => {
    // The values Chromium sends for these inputs.
    const form = `<form method="post" action="/save"><input type="email" multiple name="to" value=" ada@example.com , bob@example.com ,">
      <input type="email" name="one" value=" ada@example.com , bob@example.com "></form>`;
    expect(await sent(form)).toEqual([['to', 'ada@example.com,bob@example.com,'], ['one', 'ada@example.com , bob@example.com']]);
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().set('to', 'c@example.com,\td@example.com ').get('to')).toBe('c@example.com,d@example.com');
  });

  it('sends a text control’s directionality under its dirname, as a browser does (§4.10.21.4)', async () => {
    // What Chromium sends for this form.
    const form = `<form method="post" action="/save"><input name="a" dirname="a.dir" value="x">
      <textarea name="b" dirname="b.dir" dir="auto">שלום world</textarea><input name="c" dirname="c.dir" dir="auto" value="123 שלום">
      <div dir="rtl"><input name="d" dirname="d.dir" value="abc"><input type="tel" name="e" dirname="e.dir" value="1"></div>
      <div dir="auto">مرحبا <input name="f" dirname="f.dir" value="abc"></div><input type="hidden" name="g" dirname="g.dir" value="1">
      <input type="checkbox" name="h" dirname="h.dir" checked><input type="number" name="j" dirname="j.dir" value="1"></form>`;
    expect(await sent(form)).toEqual([
      ['a', 'x'], ['a.dir', 'ltr'], ['b', 'שלום world'], ['b.dir', 'rtl'], ['c', '123 שלום'], ['c.dir', 'rtl'], ['d', 'abc'], ['d.dir', 'rtl'],
      ['e', '1'], ['e.dir', 'ltr'], ['f', 'abc'], ['f.dir', 'rtl'], ['g', '1'], ['g.dir', 'ltr'], ['h', 'on'], ['j', '1'],
    ]);
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().set('c', 'hello').values().slice(4, 6)).toEqual([['c', 'hello'], ['c.dir', 'ltr']]);
  });

  it('sends a text/plain form with the Content-Type a browser sends, text/plain without a charset (§4.10.21.3)', async () => {
    const app = Request.application(async (req) => {
      if (req.pathInfo === '/') return new Response('<form method="post" action="/save" enctype="text/plain"><input name="q" value="café"></form>', { contentType: 'text/html' });
      return Response.json({ contentType: req.environ.CONTENT_TYPE, body: await req.text() });
    });
    const res = await (await new TestClient(app).get('/')).form().submit();
    // What Chromium sends for this form.
    expect(await res.json()).toEqual({ contentType: 'text/plain', body: 'q=café\r\n' });
  });

  it('sends a button’s empty formaction to the page itself, not to the form’s action (§4.10.21.3)', async () => {
    const page = `<form method="post" action="/save"><button>Save</button><button formaction="">Preview</button></form>`;
    const res = await new TestClient(appWith(page)).get('/catalogue/item?id=7');
    expect((await res.form().submit('Save')).url).toBe('http://localhost/save');
    expect((await res.form().submit('Preview')).url).toBe('http://localhost/catalogue/item?id=7');
  });

  it('sends the controls of a form opened inside a <table>, which the parser associates with it (§4.10.17.3, §13.2.6.4.9)', async () => {
    // The <form> is left empty where it opens; its rows' controls follow it, owned by the parser's form element pointer.
    const form = `<table><form method="post" action="/save"><tr><td><input name="qty" value="2"></td>
      <td><input type="submit" name="go" value="Buy"></td></tr></form><tr><td><input name="after" value="x"></td></tr></table>`;
    expect(await sent(form)).toEqual([['qty', '2'], ['go', 'Buy']]);
  });

  it('sends a GET form with no entries to its action with an empty query, `/search?`, as a browser does (§4.10.21.3)', async () => {
    const page = await new TestClient(appWith('<form action="/search?old=1#results"><input value="no name"><button>Go</button></form>')).get('/');
    const res = await page.form().submit();
    expect([res.url, res.request.environ.REQUEST_URI, res.request.environ.QUERY_STRING]).toEqual(['http://localhost/search?', '/search?', '']);
  });

  it('leaves out the controls inside a <datalist>, a legacy fallback a browser does not send (§4.10.21.4)', async () => {
    // The HTML standard's own example: a select inside the datalist for browsers without one.
    const form = `<form method="post" action="/save"><input name="breed" list="breeds" value="Abyssinian">
      <datalist id="breeds"><label>or select: <select name="breed"><option value="">(none)</option><option>Abyssinian</option></select></label>
      <input type="hidden" name="hint" value="x"></datalist><input name="after" value="1"></form>`;
    expect(await sent(form)).toEqual([['breed', 'Abyssinian'], ['after', '1']]);
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().getAll('breed')).toEqual(['Abyssinian']);
  });

  it('presses an image button by its alt text, its textual label (HTML’s Image Button state), sending its name.x and name.y', async () => {
    const form = `<form method="post" action="/save"><input name="q" value="z"><input type="submit" name="plain" value="Plain">
      <input type="image" name="go" alt="Go now" src="go.png"></form>`;
    const page = await new TestClient(appWith(form)).get('/');
    expect(page.form().buttonLabels).toEqual(['Plain', 'Go now']);
    const res = await page.form().submit('Go now');
    expect(((await res.json()) as { body: string }).body).toBe('q=z&go.x=0&go.y=0');
  });

  it('sends no request for a form or button whose method is dialog, which only closes its <dialog> (§4.10.21.3)', async () => {
    let calls = 0;
    const app = Request.application(async (req) => {
      calls += 1;
      const form = '<dialog open><form method="dialog"><input name="q" value="z"><button value="ok">OK</button></form></dialog><form action="/search"><button formmethod="dialog">Close</button><button>Go</button></form>';
      return new Response(`<!doctype html><title>t</title>${form}${req.pathInfo}`, { contentType: 'text/html' });
    });
    const page = await new TestClient(app).get('/');
    // Read without sending, as the HTML form.method says it (not GET, which submit() would send).
    expect([page.form(0).method, page.form(1).method]).toEqual(['DIALOG', 'GET']);
    await expect(page.form(0).submit()).rejects.toThrow(/method is dialog: .*no request/);
    await expect(page.form(1).submit('Close')).rejects.toThrow(TestClientError);
    expect(calls).toBe(1);
    // The other button of the form submits it as its method says.
    expect((await page.form(1).submit('Go')).url).toBe('http://localhost/search?');
  });

  it('answers the URL the app saw, without the fragment, for a page asked with one and a form without action posted from it', async () => {
    const app = Request.application(async (req) => {
      if (req.method === 'GET') return new Response('<!doctype html><title>t</title><form method="post"><input name="q" value="z"></form>', { contentType: 'text/html' });
      return Response.json({ url: req.url, body: await req.text() });
    });
    const page = await new TestClient(app).get('/page?x=1#results');
    expect(page.url).toBe('http://localhost/page?x=1');
    const res = await page.form().submit();
    expect(res.url).toBe('http://localhost/page?x=1');
    expect(await res.json()).toEqual({ url: 'http://localhost/page?x=1', body: 'q=z' });
  });

  it('chooses several files only for a file input with multiple, as a browser file picker does', async () => {
    const form = `<form method="post" action="/save" enctype="multipart/form-data"><input type="file" name="one"><input type="file" name="many" multiple></form>`;
    const page = await new TestClient(appWith(form)).get('/');
    const a = { filename: 'a.txt', content: 'a' };
    const b = { filename: 'b.txt', content: 'b' };
    expect(() => page.form().upload('one', [a, b])).toThrow(/"one" takes one file \(no multiple attribute\), not 2/);
    expect(page.form().upload('one', [a]).upload('many', [a, b]).values().map(([name]) => name)).toEqual(['one', 'many', 'many']);
  });

  it('selects an option by the label a user sees: its label attribute when not empty, else its text (§4.10.10)', async () => {
    const form = `<form method="post" action="/save"><select name="size">
      <option value="s" label="Small">S</option><option value="m" label="">Medium</option><option value="l">Large</option></select></form>`;
    const page = await new TestClient(appWith(form)).get('/');
    const res = await page.form().set('size', 'Small').submit();
    expect(((await res.json()) as { body: string }).body).toBe('size=s');
    expect(page.form().set('size', 'Medium').get('size')).toBe('m');
    expect(() => page.form().set('size', 'S')).toThrow(TestClientError);
  });
});

describe('links', () => {
  it('refuses a link or URL of another scheme than http(s) (mailto:, javascript:) with a TypeError, without asking the app for it', async () => {
    let asked = 0;
    const app = Request.application(() => {
      asked++;
      return new Response('<a href="mailto:ada@example.com">Write</a>', { contentType: 'text/html' });
    });
    const page = await new TestClient(app).get('/');
    await expect(page.click('Write')).rejects.toThrow(new TypeError('GET mailto:ada@example.com: the test client sends http(s) URLs only'));
    await expect(new TestClient(app).get('javascript:void(0)')).rejects.toThrow(TypeError);
    expect(asked).toBe(1);
  });
});
