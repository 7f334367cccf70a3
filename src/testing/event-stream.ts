/**
 * Reading a `text/event-stream` body as a browser's `EventSource` does (HTML Living Standard
 * §9.2.6, "Interpreting an event stream"), for `TestResponse.events()`.
 *
 * @module
 */

/**
 * One event as an `EventSource` dispatches it (the fields of its `MessageEvent`): what
 * `TestResponse.events()` yields.
 */
export interface ReceivedEvent {
  /** The event type: the `event:` field, or `'message'` when there was none. */
  type: string;
  /** The `data:` lines, joined with LF. */
  data: string;
  /** The last event id the stream set (`id:`), carried over from earlier events; `''` when none. */
  lastEventId: string;
}

/**
 * The events of a stream of chunks, as they are completed (a blank line ends each). Lines end
 * at CR LF, LF or CR, even across chunks (empty ones between a CR and its LF included); a
 * leading BOM is skipped; comments, unknown fields, `retry:` and events without data dispatch
 * nothing; an `id` with NUL is ignored; an event the stream ends in the middle of is dropped,
 * as the standard says.
 */
export async function* parseEventStream(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<ReceivedEvent, void, undefined> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let pending = '';
  // A CR that ended the last chunk: an LF starting the next belongs to it.
  let afterCR = false;
  let data = '';
  let type = '';
  let lastEventId = '';
  const lines = function* (text: string): Generator<string> {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      yield pending + text.slice(start, i);
      pending = '';
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    pending += text.slice(start);
  };
  const field = (line: string): ReceivedEvent | undefined => {
    if (line === '') {
      if (data === '') {
        type = '';
        return undefined;
      }
      const event = { type: type === '' ? 'message' : type, data: data.slice(0, -1), lastEventId };
      data = '';
      type = '';
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') type = value;
    else if (name === 'data') data += `${value}\n`;
    else if (name === 'id' && !value.includes('\0')) lastEventId = value;
    return undefined;
  };
  for await (const chunk of chunks) {
    let text = decoder.decode(chunk, { stream: true });
    // An empty chunk (a flush; or bytes that end mid-character) leaves a CR that ended the last one waiting for its LF.
    if (text === '') continue;
    if (afterCR && text.startsWith('\n')) text = text.slice(1);
    afterCR = text.endsWith('\r');
    for (const line of lines(text)) {
      const event = field(line);
      if (event !== undefined) yield event;
    }
  }
}
