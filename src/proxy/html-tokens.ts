/**
 * parse5's rewriting stream as the HTML rewriter drives it ({@link TokenStream}): tokens by
 * event, with where they lie in the source, plus the few things parse5 does not offer out of
 * the box — how far the source is settled while a long text or comment is still open, keeping
 * the tokenizer's own buffer bounded during such a run, and self-closing foreign elements.
 *
 * These reach into parse5 8's tokenizer and feedback simulator (fields that are private or
 * `@internal` in its typings); {@link TokenizerInternals} lists every one of them. That is why
 * package.json pins `parse5` and `parse5-html-rewriting-stream` to exact versions: move them
 * only together with this file, and test/filters.test.ts's streaming tests tell if a field moved.
 *
 * @module
 */
import { Token, html } from 'parse5';
import { RewritingStream } from 'parse5-html-rewriting-stream';

/** The parts of parse5's `Tokenizer` and `ParserFeedbackSimulator` the rewriter relies on. */
interface TokenizerInternals {
  tokenizer: {
    /** The token being built (a tag, comment or doctype), or null in text. */
    currentToken: { type: Token.TokenType; data?: string } | null;
    /** The input offset before any unfinished token or delimiter (what `flushCharacters` emits up to). */
    getCharacterTokenEndOffset(): number;
    /** Emits the text read so far and drops it from the buffer, once the buffer is past its waterline. */
    flushCurrentCharacterToken(): void;
    /** Appends the pending slice of input to the comment (or text, attribute) being built. */
    _flushRun(text: string): void;
    preprocessor: { droppedBufferSize: number; pos: number; willDropParsedChunk(): boolean; dropParsedChunk(keep?: number): void };
  };
  parserFeedbackSimulator: { inForeignContent: boolean; _leaveCurrentNamespace(): void };
}

/**
 * parse5's `RewritingStream` with its output discarded (the rewriter writes its own, from the
 * source offsets of the tokens) and three additions: {@link TokenStream.settled},
 * {@link TokenStream.relieve} and {@link TokenStream.foreign}.
 */
export class TokenStream extends RewritingStream {
  /** True when the last start tag was read in foreign content (SVG, MathML). */
  foreign = false;

  override push(): boolean {
    return true;
  }

  private get internals(): TokenizerInternals {
    return this as unknown as TokenizerInternals;
  }

  /**
   * The source offset up to which the input is known to be text or comment (bytes that go out
   * as they are): the start of an unfinished tag, doctype or delimiter (`<`, `</`, `&…`), or
   * everything read when inside a comment.
   */
  settled(): number {
    const { tokenizer } = this.internals;
    const { preprocessor } = tokenizer;
    if (tokenizer.currentToken?.type === Token.TokenType.COMMENT) return preprocessor.droppedBufferSize + preprocessor.pos + 1;
    return tokenizer.getCharacterTokenEndOffset();
  }

  /**
   * Keeps parse5's buffer small during a long run of text or comment: without this, it keeps
   * (and copies on every chunk) all input since the last tag, which is quadratic in the run's
   * length. Text read so far is emitted as a text token; the data of an open comment, which the
   * rewriter never reads (it sends comments from the source), is dropped with its input.
   */
  relieve(): void {
    const { tokenizer } = this.internals;
    tokenizer.flushCurrentCharacterToken();
    const token = tokenizer.currentToken;
    if (token?.type !== Token.TokenType.COMMENT || !tokenizer.preprocessor.willDropParsedChunk()) return;
    tokenizer._flushRun('');
    token.data = '';
    tokenizer.preprocessor.dropParsedChunk();
  }

  /**
   * Notes whether the start tag is in foreign content, where a self-closing tag (`<path/>`) is a
   * whole element; and leaves the namespace a self-closing `<svg/>` or `<math/>` entered (parse5's
   * feedback simulator would stay in it until the next HTML-only tag).
   */
  override onStartTag(token: Token.TagToken): void {
    const simulator = this.internals.parserFeedbackSimulator;
    this.foreign = simulator.inForeignContent;
    const entered = token.tagID === html.TAG_ID.SVG || token.tagID === html.TAG_ID.MATH;
    if (this.foreign && token.selfClosing && entered) simulator._leaveCurrentNamespace();
    super.onStartTag(token);
  }
}
