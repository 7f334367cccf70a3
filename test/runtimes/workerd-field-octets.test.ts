/**
 * Request field values with octets above 0x7F under `toFetchHandler` on workerd: the app sees
 * each octet as one character U+0080–U+00FF (docs/spec.md §2.2), as under `serve()`, Bun and
 * Deno. workerd decodes field values as UTF-8, so `X-Name: café` sent in UTF-8 reached the app
 * as `café` (4 characters, where every other server gives the 5 of its octets) and `€` as
 * U+20AC, outside the range the spec promises: an app that decodes its fields from latin-1
 * octets, as it must under `serve()`, read other text on workerd. Over a real socket on 127.0.0.1.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-field-octets.ts', import.meta.url)), '/');
});
afterAll(() => server?.stop());

/** Sends a GET with the field lines given as raw octets; answers the JSON body. */
function send(fields: Buffer, path = '/'): Promise<{ environ: number[] | null; header: number[] | null; cookie: string | null; head: Buffer }> {
  const { hostname, port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.end(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n`), fields, Buffer.from('\r\n')]));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const bytes = Buffer.concat(chunks);
      const end = bytes.indexOf('\r\n\r\n');
      const head = bytes.subarray(0, end);
      try {
        resolve({ ...JSON.parse(bytes.subarray(end + 4).toString('utf8')), head });
      } catch {
        resolve({ environ: null, header: null, cookie: null, head }); // not the app's JSON: a 500
      }
    });
  });
}

it('hands a field value over as its octets, one character U+0000–U+00FF each', async () => {
  const value = Buffer.from('café €', 'utf8');
  const { environ, header } = await send(Buffer.concat([Buffer.from('X-Name: '), value, Buffer.from('\r\n')]));
  expect(environ).toEqual([...value]);
  expect(header).toEqual([...value]);
});

it('sends a field value the app gives as octets as those octets', async () => {
  // The app sends back the request's field as the environ holds it: the octets go out as they came.
  const value = Buffer.from('café €', 'utf8');
  const { head } = await send(Buffer.concat([Buffer.from('X-Name: '), value, Buffer.from('\r\n')]));
  const line = head.toString('latin1').split('\r\n').find((field) => /^x-echo:/i.test(field));
  expect(line === undefined ? undefined : [...Buffer.from(line.slice(line.indexOf(':') + 1).trim(), 'latin1')]).toEqual([...value]);
});

it('leaves an ASCII field value as it is', async () => {
  const { environ } = await send(Buffer.from('X-Name: plain text\r\n'));
  expect(environ).toEqual([...Buffer.from('plain text')]);
});

it('still decodes a cookie sent in UTF-8 as its text', async () => {
  const { cookie } = await send(Buffer.concat([Buffer.from('Cookie: c='), Buffer.from('café €', 'utf8'), Buffer.from('\r\n')]));
  expect(cookie).toBe('café €');
});

it('hands a fetch handler under fromFetchHandler the field values workerd gives a handler', async () => {
  // As text decoded from UTF-8, as the handler would get them running on workerd alone.
  const value = Buffer.from('café €', 'utf8');
  const { header } = await send(Buffer.concat([Buffer.from('X-Name: '), value, Buffer.from('\r\n')]), '/inner');
  expect(header).toEqual([...'café €'].map((c) => c.codePointAt(0)));
});

it('sends a fetch handler’s field value past U+00FF as workerd sends it, not a 500', async () => {
  const { head } = await send(Buffer.alloc(0), '/inner');
  const lines = head.toString('latin1').split('\r\n');
  expect(lines[0]).toBe('HTTP/1.1 200 OK');
  const line = lines.find((field) => /^x-price:/i.test(field));
  expect(line === undefined ? undefined : Buffer.from(line.slice(line.indexOf(':') + 1).trim(), 'latin1').toString('utf8')).toBe('5 €');
});
