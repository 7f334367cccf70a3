/**
 * `res.attachment(name)` over a real socket: the name is the last segment of a path, as
 * Express's `res.attachment('/srv/files/report.pdf')` sends `report.pdf` (RFC 6266 §4.3: a
 * disposition filename carries no path), also for a client's Windows path.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

describe('res.attachment over a real socket', () => {
  it('names the last segment of a path', async () => {
    const app = Request.application((req) => new Response('x').attachment(req.query.get('name') ?? undefined));
    const server = await serve(app, { port: 0 });
    try {
      const disposition = async (name: string) =>
        (await fetch(`http://127.0.0.1:${server.port}/?name=${encodeURIComponent(name)}`)).headers.get('content-disposition');
      expect(await disposition('/srv/files/report.pdf')).toBe('attachment; filename=report.pdf');
      expect(await disposition('C:\\Users\\ada\\résumé.pdf')).toBe(`attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
      expect(await disposition('plain.txt')).toBe('attachment; filename=plain.txt');
      // path.basename, as Express's content-disposition takes it: a trailing separator does not empty the name.
      expect(await disposition('/srv/files/exports/')).toBe('attachment; filename=exports');
      expect(await disposition('C:\\Users\\ada\\exports\\')).toBe('attachment; filename=exports');
    } finally {
      await server.close();
    }
  });

  it('sends a bare attachment when the name has no last segment, as Express does for no name', async () => {
    const app = Request.application((req) => new Response('x').attachment(req.query.get('name') ?? undefined));
    const server = await serve(app, { port: 0 });
    try {
      const disposition = async (name: string) =>
        (await fetch(`http://127.0.0.1:${server.port}/?name=${encodeURIComponent(name)}`)).headers.get('content-disposition');
      // filename="" names no file a client can save (RFC 6266 §4.3): the bare type, as attachment() without a name
      expect(await disposition('')).toBe('attachment');
      expect(await disposition('/')).toBe('attachment');
      expect(await disposition('\\')).toBe('attachment');
      expect(new Response('x').attachment('/', { type: 'inline' }).headers.get('content-disposition')).toBe('inline');
    } finally {
      await server.close();
    }
  });

  it('gives clients that read only filename= (curl -OJ, old browsers) the name spelled in ASCII, accents dropped, as Werkzeug does', async () => {
    const app = Request.application((req) => new Response('x').attachment(req.query.get('name') ?? undefined));
    const server = await serve(app, { port: 0 });
    try {
      const disposition = async (name: string) =>
        (await fetch(`http://127.0.0.1:${server.port}/?name=${encodeURIComponent(name)}`)).headers.get('content-disposition');
      expect(await disposition('Übersicht März.pdf')).toBe(`attachment; filename="Ubersicht Marz.pdf"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf`);
      expect(await disposition('Grüße – Straße.txt')).toBe(`attachment; filename="Grusse ? Strasse.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%80%93%20Stra%C3%9Fe.txt`);
      expect(await disposition('Crème brûlée ﬁnal.pdf')).toBe(`attachment; filename="Creme brulee final.pdf"; filename*=UTF-8''Cr%C3%A8me%20br%C3%BBl%C3%A9e%20%EF%AC%81nal.pdf`);
      // no Latin letter to fall back to: a '?' each, as before; filename* carries the name
      expect(await disposition('日本語.pdf')).toBe(`attachment; filename="???.pdf"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf`);
      expect(await disposition('تقرير.pdf')).toBe(`attachment; filename="?????.pdf"; filename*=UTF-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.pdf`);
      // a decomposed name (macOS) reads as the composed one
      expect(await disposition('Jose\u0301.txt')).toBe(`attachment; filename=Jose.txt; filename*=UTF-8''Jose%CC%81.txt`);
      // compatibility forms of separators and dots spell no path in the fallback (a full-width
      // solidus is '/' once decomposed, a two-dot leader '..'): a '?' each, as other characters
      expect(await disposition('..\uFF0F..\uFF0Fetc\uFF3Cpasswd')).toBe(`attachment; filename="..?..?etc?passwd"; filename*=UTF-8''..%EF%BC%8F..%EF%BC%8Fetc%EF%BC%BCpasswd`);
      expect(await disposition('\u2025')).toBe(`attachment; filename="?"; filename*=UTF-8''%E2%80%A5`);
    } finally {
      await server.close();
    }
  });
});
