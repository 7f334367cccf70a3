/**
 * `bestMatch`, `acceptableOffers` and `quality` are given offers by app code: a string where an
 * array is meant (Express's `req.accepts('json')` takes one) was spread into its characters when
 * the client sent no header (`'j'` for `bestMatch('json')`) and failed with
 * "offers.map is not a function" when it did, so the same mistake answered differently per
 * client. Each now refuses what is no array of strings, naming what to write.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { Accept, AcceptCharset, AcceptEncoding, AcceptLanguage } from 'tsgi/http';
import { request, start } from './node-helpers.ts';

const classes = [Accept, AcceptLanguage, AcceptEncoding, AcceptCharset] as const;
const loose = (value: unknown) => value as string[];

describe('Accept-* offers must be an array of strings', () => {
  it('a string, a Set or a non-string item is refused with a TypeError naming the method, header sent or not', () => {
    for (const Header of classes) {
      for (const raw of [undefined, '*', 'text/html, en, gzip, utf-8']) {
        const header = new Header(raw);
        expect(() => header.bestMatch(loose('json')), `${Header.name}(${raw})`).toThrow(
          new TypeError(`${Header.name}.bestMatch: the offers must be an array of strings (bestMatch(["json"])), got "json" (a string)`),
        );
        expect(() => header.acceptableOffers(loose(new Set(['gzip'])))).toThrow(
          `${Header.name}.acceptableOffers: the offers must be an array of strings, got an object`,
        );
        expect(() => header.bestMatch(loose(['en', undefined]), 'en')).toThrow(
          `${Header.name}.bestMatch: offer 1 must be a string, got undefined`,
        );
        expect(() => header.quality(undefined as unknown as string)).toThrow(`${Header.name}.quality: the offer must be a string, got undefined`);
        // what is right still answers
        expect(header.bestMatch([], 'none')).toBe('none');
      }
    }
  });

  it('over a socket: the same mistake fails the same way whether the client sends Accept or not', async () => {
    const app = Request.application((req) => {
      try {
        return new Response(String(req.accept.bestMatch(loose('json'))));
      } catch (error) {
        return new Response((error as Error).message, { status: 500 });
      }
    });
    const server = await start(app);
    try {
      for (const headers of [{}, { Accept: 'application/json' }]) {
        const res = await request(`${server.url}/`, { headers }); // node:http sends no Accept of its own
        expect(res.status).toBe(500);
        expect(res.body.toString()).toMatch(/^Accept\.bestMatch: the offers must be an array of strings/);
      }
    } finally {
      await server.close();
    }
  });
});
