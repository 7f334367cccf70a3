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
      expect(await disposition('C:\\Users\\ada\\résumé.pdf')).toBe(`attachment; filename="r?sum?.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
      expect(await disposition('plain.txt')).toBe('attachment; filename=plain.txt');
      // path.basename, as Express's content-disposition takes it: a trailing separator does not empty the name.
      expect(await disposition('/srv/files/exports/')).toBe('attachment; filename=exports');
      expect(await disposition('C:\\Users\\ada\\exports\\')).toBe('attachment; filename=exports');
    } finally {
      await server.close();
    }
  });
});
