import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

describe('smoke', () => {
  it('serves a Request.application over a real socket', async () => {
    const app = Request.application((req) => new Response(`hi ${req.pathInfo}`));
    const server = await serve(app, { port: 0 });
    try {
      const res = await fetch(`${server.url}/there`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('hi /there');
    } finally {
      await server.close();
    }
  });
});
