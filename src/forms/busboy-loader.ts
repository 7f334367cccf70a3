/**
 * busboy, loaded when the first `multipart/form-data` body is parsed rather than when tsgi is
 * imported: most apps never receive one, and the package root (which `Request` brings the form
 * parsers into) then loads neither busboy nor its streamsearch.
 *
 * @module
 */
import type busboy from 'busboy';
import { type BusboyPartReader, busboyPartReader } from './busboy-disposition.ts';
import { importOnce } from '../gateway/import-once.ts';

/** busboy's factory: `busboy(config)` → a parser (a `Writable`). */
export type BusboyFactory = typeof busboy;

/** What the multipart parsers take from busboy. */
export interface LoadedBusboy {
  /** The parser's factory (busboy's default export). */
  createParser: BusboyFactory;
  /** busboy's own reading of a part's head, for the guard (`busboy/lib/utils.js`). */
  parts: BusboyPartReader;
}

/**
 * busboy, imported on the first call and kept (every later call answers the same settled
 * promise). A failed import (busboy not installed) is not kept: its error, Node's
 * `ERR_MODULE_NOT_FOUND` naming busboy, rejects this call, and the next call tries again.
 */
export const loadBusboy: () => Promise<LoadedBusboy> = importOnce(() =>
  Promise.all([
    import('busboy'),
    // @ts-ignore -- no declaration file for busboy/lib/utils.js (TS7016); typed in busboy-disposition.ts.
    import('busboy/lib/utils.js') as Promise<{ default: unknown }>,
  ]).then(([parser, utils]) => ({ createParser: parser.default, parts: busboyPartReader(utils.default) })),
);
