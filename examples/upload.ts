/**
 * File uploads with `Request.application`: GET shows an HTML form (`multipart/form-data`, a
 * text field and a file input that takes several files); POST lists what arrived: each file's
 * name (escaped: it is whatever the client sent), media type and size in bytes.
 *
 * The form is read with `req.form()` and `req.files()`, streaming, within {@link limits}: a
 * file past `maxFileSize` or too many files answer `413 Content Too Large` naming the limit,
 * without reading the rest. Files larger than 500 KiB are spooled to a temporary file, removed
 * when the response is done.
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/upload.ts:app
 * curl -F note=hi -F files=@README.md -F files=@package.json http://127.0.0.1:8000/
 * ```
 *
 * @module
 */
import { type FormOptions, HTTPMethodNotAllowed, HTTPNotFound, Request, Response } from 'tsgi';
import { escapeHtml, quotePath } from 'tsgi/http';

/** The form limits of this example: 10 MiB per file, 10 files, 20 MiB in all. */
export const limits: FormOptions = Object.freeze({
  maxFileSize: 10 * 1024 * 1024,
  maxFiles: 10,
  maxBodySize: 20 * 1024 * 1024,
  maxFieldSize: 10_000,
});

/**
 * An HTML page (`text/html; charset=utf-8`) with `title` as its title and heading (escaped)
 * and `body`, an HTML fragment inserted as it is (escape what it holds). Also used by
 * examples/demo.ts.
 */
export function page(title: string, body: string): Response {
  return new Response(
    `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
      `<body>\n<h1>${escapeHtml(title)}</h1>\n${body}\n</body>\n</html>\n`,
    { contentType: 'text/html' },
  );
}

function form(action: string): Response {
  return page(
    'Upload files',
    `<form method="post" enctype="multipart/form-data" action="${escapeHtml(action)}">\n` +
      '<p><label>Note <input type="text" name="note"></label></p>\n' +
      '<p><label>Files <input type="file" name="files" multiple></label></p>\n' +
      '<p><button type="submit">Upload</button></p>\n</form>',
  );
}

async function list(req: Request, action: string): Promise<Response> {
  const fields = await req.form(limits);
  // A file input left empty (no file chosen) is not among the files.
  const files = (await req.files()).getAll('files');
  const rows = files
    .map(
      (file) =>
        `<tr><td>${escapeHtml(file.filename)}</td><td>${escapeHtml(file.contentType)}</td><td>${file.size}</td></tr>`,
    )
    .join('\n');
  const note = fields.get('note') ?? '';
  return page(
    `Received ${files.length} file${files.length === 1 ? '' : 's'}`,
    `<p>Note: ${escapeHtml(note)}</p>\n` +
      `<table>\n<tr><th>Name</th><th>Type</th><th>Size (bytes)</th></tr>\n${rows}\n</table>\n` +
      `<p><a href="${escapeHtml(action)}">Upload more</a></p>`,
  );
}

/** The upload app: the form at `/` (GET/HEAD), the listing for a POST there; 404 elsewhere. */
export const app = Request.application(async (req) => {
  if (req.pathInfo !== '/' && req.pathInfo !== '') throw new HTTPNotFound();
  const action = `${quotePath(req.scriptName)}/`; // this page, also when mounted
  if (req.method === 'GET' || req.method === 'HEAD') return form(action);
  if (req.method === 'POST') return list(req, action);
  throw new HTTPMethodNotAllowed(['GET', 'HEAD', 'POST']);
});
