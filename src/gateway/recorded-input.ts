/**
 * A request body handed to several readers in turn, each from its start, without reading it
 * in advance: what a reader reads is recorded, so the next one gets those bytes again and then
 * the rest of the stream (`cascade`, which tries apps in turn).
 *
 * @module
 */
import { openInput } from './input.ts';

type Step = IteratorResult<Uint8Array, undefined>;

const DONE: Step = Object.freeze({ done: true, value: undefined });

/**
 * The recording of a request body for readers that take turns (see {@link InputRecording.reader}).
 * Nothing is read from the input until a reader asks, and only what readers ask for is read:
 * a reader that never reads costs nothing.
 *
 * While recording, every chunk read from the input is kept, so each reader's input replays
 * the body from its start (it can be iterated any number of times, as a `BufferedInput`).
 * {@link InputRecording.stop} ends the recording: the current reader's input then reads on as
 * a live input (spec §3, iterated once), the bytes it has not read yet (recorded ones first)
 * and then the rest of the stream, each chunk let go once handed over.
 *
 * When a read of the input fails (the client left; the 413 of a `limitInput` past its limit),
 * a reader that reaches that point gets the error, unchanged, every time; what came before it
 * is still replayed. `onFailure` hears of each such throw first, with the reader's input (the
 * cascade leaves it failed in the environ, as a reader of the input itself would find it).
 */
export class InputRecording {
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #onFailure: ((input: AsyncIterable<Uint8Array>, error: unknown) => void) | undefined;
  /** The input's iterator, opened at the first read (`openInput`: a Node stream is not destroyed). */
  #opened: ReturnType<typeof openInput> | undefined = undefined;
  /** The chunks read and not let go; `#queue[0]` is chunk number `#base`. */
  #queue: Uint8Array[] = [];
  #base = 0;
  #ended = false;
  #failed = false;
  #error: unknown = undefined;
  /** The read of the input under way (one at a time, whoever asked). */
  #pulling: Promise<void> | undefined = undefined;
  #recording = true;
  /** Once not recording: the number of the next chunk the current reader gets. */
  #cursor = 0;
  #current: ReaderInput | undefined = undefined;

  /**
   * @param source - the request's input (`tsgi.input`), read only as readers ask.
   * @param onFailure - told, before a reader's read throws the input's failure, of that
   *   reader's input and the error.
   */
  constructor(source: AsyncIterable<Uint8Array>, onFailure?: (input: AsyncIterable<Uint8Array>, error: unknown) => void) {
    this.#source = source;
    this.#onFailure = onFailure;
  }

  /** True once a reader has asked for a chunk (the input is then no longer as it was). */
  get touched(): boolean {
    return this.#opened !== undefined;
  }

  /**
   * The input of the next reader: the body from its start. The previous reader's input is
   * closed: its reads throw from now on (a read it still had waiting gets its chunk recorded
   * for the new reader, and throws).
   */
  reader(): AsyncIterable<Uint8Array> {
    this.#current?.close();
    return (this.#current = new ReaderInput(this));
  }

  /** False once {@link InputRecording.stop} has ended the recording: a next reader would no longer get the body whole. */
  get recording(): boolean {
    return this.#recording;
  }

  /** Closes the current reader's input, as {@link InputRecording.reader} does, for a reader given the input itself. */
  close(): void {
    this.#current?.close();
  }

  /**
   * Ends the recording: the current reader's input reads on from where its reads are (the
   * earliest of those under way; its start if it never read; after the furthest it read, if
   * its reads are over, even when an earlier reader read further), and what it has passed is
   * let go. Idempotent.
   */
  stop(): void {
    if (!this.#recording) return;
    this.#recording = false;
    const reader = this.#current;
    let cursor = this.#base;
    if (reader !== undefined && reader.live.size === 0) cursor += reader.reached;
    else if (reader !== undefined) {
      cursor = this.#base + this.#queue.length;
      for (const iterator of reader.live) cursor = Math.min(cursor, iterator.position);
    }
    this.#cursor = cursor;
    this.#queue = this.#queue.slice(cursor - this.#base);
    this.#base = cursor;
  }

  /** @internal The next chunk for `iterator` of `reader`. */
  async next(reader: ReaderInput, iterator: ReaderIterator): Promise<Step> {
    for (;;) {
      if (iterator.finished) return DONE;
      if (reader.closed) throw new Error('the request body was handed to the next reader: this input of one that was passed over reads no more');
      const recording = this.#recording;
      const index = recording ? iterator.position : this.#cursor;
      if (index < this.#base + this.#queue.length) {
        const chunk = this.#queue[index - this.#base]!;
        if (recording) {
          iterator.position = index + 1;
          if (reader.reached <= index) reader.reached = index + 1;
        } else this.#take(index);
        return { done: false, value: chunk };
      }
      if (this.#failed) {
        this.#onFailure?.(reader, this.#error);
        throw this.#error;
      }
      if (this.#ended) return DONE;
      await this.#pull();
    }
  }

  /** Hands over chunk number `index` when not recording: it is let go. */
  #take(index: number): void {
    this.#cursor = index + 1;
    if (this.#cursor === this.#base + this.#queue.length) {
      this.#queue = [];
      this.#base = this.#cursor;
    } else {
      this.#queue.shift();
      this.#base++;
    }
  }

  /** Reads one chunk of the input into the queue (or its end, or its failure); one read at a time. */
  #pull(): Promise<void> {
    return (this.#pulling ??= this.#pullOne().finally(() => {
      this.#pulling = undefined;
    }));
  }

  async #pullOne(): Promise<void> {
    const opened = (this.#opened ??= openInput(this.#source));
    try {
      const step = await opened.chunks.next();
      if (step.done) {
        this.#ended = true;
        return;
      }
      this.#queue.push(step.value);
    } catch (error) {
      this.#failed = true;
      this.#error = error;
      // Let go of the input (no listener is left on a Node stream); the rest stays unread.
      opened.detach();
    }
  }
}

/** One reader's input (see {@link InputRecording.reader}). */
class ReaderInput implements AsyncIterable<Uint8Array> {
  readonly #recording: InputRecording;
  /** True once the reader was passed over: its reads throw. */
  closed = false;
  /** While recording: how many chunks its furthest iteration got. */
  reached = 0;
  /** Its iterations that asked for a chunk and have not finished. */
  readonly live = new Set<ReaderIterator>();

  constructor(recording: InputRecording) {
    this.#recording = recording;
  }

  close(): void {
    this.closed = true;
    this.live.clear();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new ReaderIterator(this.#recording, this);
  }

  get [Symbol.toStringTag](): string {
    return 'RecordedInput';
  }
}

/** One iteration of a {@link ReaderInput}. */
class ReaderIterator implements AsyncIterator<Uint8Array, undefined> {
  readonly #recording: InputRecording;
  readonly #reader: ReaderInput;
  /** While recording: the number of the next chunk it gets. */
  position = 0;
  finished = false;

  constructor(recording: InputRecording, reader: ReaderInput) {
    this.#recording = recording;
    this.#reader = reader;
  }

  async next(): Promise<Step> {
    if (!this.finished && !this.#reader.closed) this.#reader.live.add(this);
    try {
      const step = await this.#recording.next(this.#reader, this);
      if (step.done) this.#finish();
      return step;
    } catch (error) {
      this.#finish();
      throw error;
    }
  }

  /** Stops this iteration (a `break`): the input itself is left as it is, for the next reader. */
  async return(): Promise<Step> {
    this.#finish();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #finish(): void {
    this.finished = true;
    this.#reader.live.delete(this);
  }
}
