/**
 * Where the events of a `text/event-stream` body end ({@link EventSplitter}), so the text
 * filters can send each event as soon as it is complete.
 *
 * @module
 */

/**
 * A blank line: a line end (CRLF, LF, or a CR with no LF after it) straight after another. The
 * second line end is a bare CR only when a character other than LF follows, since an LF still
 * to come would make it a CRLF.
 */
const BLANK_LINE = /(?:\r\n|\r(?!\n)|\n)(?:\r\n|\n|\r(?=[^\n]))/g;

/** What {@link EventSplitter.split} answers. */
export interface EventPieces {
  /** Pieces that each complete an event, the blank line ending it last ('' when the piece before ended one). */
  readonly ends: string[];
  /** The rest: the start of an event still to be completed. */
  readonly rest: string;
}

/**
 * Cuts a `text/event-stream` body, given in pieces, after each blank line (the end of an event
 * in the HTML Standard's event stream format). The cuts are the same however the body is
 * pieced: only the last 3 characters of the unfinished event are kept between pieces.
 */
export class EventSplitter {
  /** The last characters after the last blank line, so one split between pieces is found. */
  private carry = '';

  /** Cuts the next piece of the stream. */
  split(text: string): EventPieces {
    const s = this.carry + text;
    const ends: string[] = [];
    let at = this.carry.length; // where the text not yet answered starts
    let eventStart = 0;
    BLANK_LINE.lastIndex = 0;
    for (let match = BLANK_LINE.exec(s); match !== null; match = BLANK_LINE.exec(s)) {
      eventStart = BLANK_LINE.lastIndex;
      if (eventStart < at) continue; // answered already (the carry never holds a whole blank line)
      ends.push(s.slice(at, eventStart));
      at = eventStart;
    }
    this.carry = s.slice(Math.max(eventStart, s.length - 3));
    return { ends, rest: s.slice(at) };
  }
}
