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
import { Token, TokenizerMode, foreignContent, html } from 'parse5';
import { RewritingStream } from 'parse5-html-rewriting-stream';

/** The parts of parse5's `Tokenizer` and `ParserFeedbackSimulator` the rewriter relies on. */
interface TokenizerInternals {
  tokenizer: {
    /** The state it reads the next character in: set to script data, RAWTEXT or RCDATA by the simulator after such a start tag. */
    state: number;
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
  parserFeedbackSimulator: { inForeignContent: boolean; namespaceStack: html.NS[]; _leaveCurrentNamespace(): void };
}

/** HTML's void elements: no content, no end tag. */
export const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

const $ = html.TAG_ID;
const MATHML_TEXT_POINTS = new Set([$.MI, $.MO, $.MN, $.MS, $.MTEXT]);

/** A MathML text integration point (`mi`, `mo`, `mn`, `ms`, `mtext`) the simulator entered HTML at. */
interface TextPoint {
  /** The simulator's namespace stack depth inside it. */
  level: number;
  /** Elements open inside it: while there are none, it is the current node. */
  open: number;
}

/**
 * parse5's `RewritingStream` with its output discarded (the rewriter writes its own, from the
 * source offsets of the tokens) and three additions: {@link TokenStream.settled},
 * {@link TokenStream.relieve} and {@link TokenStream.foreign}.
 */
export class TokenStream extends RewritingStream {
  /** True when the last start tag was read in foreign content (SVG, MathML). */
  foreign = false;
  /**
   * True for an XHTML document (`application/xhtml+xml`), which browsers read as XML: a
   * self-closing tag (`<script src="a.js"/>`, `<div/>`) is then a whole element, so what follows
   * it is markup, not the script, raw text or RCDATA content HTML would read after that tag.
   */
  xml = false;
  /** The simulator's namespace stack depth after the last tag. */
  private level = 1;
  /** MathML text integration points entered, innermost last. */
  private readonly points: TextPoint[] = [];

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
   * feedback simulator would stay in it until the next HTML-only tag). An HTML-only tag (`<p>`,
   * `<div>`) in foreign content leaves every foreign namespace up to HTML (an integration point,
   * or the document: {@link leaveForeign}), as HTML's tree construction pops every foreign
   * element up to an HTML one ("in foreign content"): the simulator leaves only the innermost,
   * so after an unclosed `<svg><svg>` or `<math><svg>` it read the rest of the page as SVG.
   *
   * Directly inside a MathML text integration point (`<mi>`), the simulator reads tags as HTML,
   * but `mglyph` and `malignmark` are MathML there (HTML's tree construction dispatcher), so
   * their self-closing flag counts. Which element is current is told by counting the elements
   * opened and closed inside the point (as written: end tags a browser would imply are not).
   */
  override onStartTag(token: Token.TagToken): void {
    const simulator = this.internals.parserFeedbackSimulator;
    if (simulator.inForeignContent && foreignContent.causesExit(token)) this.leaveForeign();
    this.foreign = simulator.inForeignContent;
    const entered = token.tagID === $.SVG || token.tagID === $.MATH;
    if (this.foreign && token.selfClosing && entered) simulator._leaveCurrentNamespace();
    const level = simulator.namespaceStack.length;
    this.leavePoints(level);
    const point = this.points.at(-1);
    if (level > this.level && !this.foreign && MATHML_TEXT_POINTS.has(token.tagID)) this.points.push({ level, open: 0 });
    else if (point?.level === level && !this.foreign) {
      const mathml = point.open === 0 && (token.tagID === $.MGLYPH || token.tagID === $.MALIGNMARK);
      if (mathml) this.foreign = true;
      if (!(mathml && token.selfClosing) && !VOID.has(token.tagName)) point.open++;
    }
    this.level = level;
    // XML: no content follows a self-closing tag (the simulator set the tokenizer to read some).
    if (this.xml && token.selfClosing) this.internals.tokenizer.state = TokenizerMode.DATA;
    super.onStartTag(token);
  }

  /**
   * Leaves every SVG and MathML namespace the simulator is in, up to HTML (an integration point
   * or the document): at an HTML-only start tag ({@link onStartTag}), or once an end tag ended
   * every foreign element open (`</div>` in `<div><svg><path>`: HTML's "in foreign content",
   * any other end tag, ends the elements up to the HTML one it names; the rewriter's open
   * elements tell). parse5's simulator leaves a namespace only at `</svg>` or `</math>`, and
   * read what followed as SVG: a `<script>`'s or `<textarea>`'s text as markup.
   */
  leaveForeign(): void {
    const simulator = this.internals.parserFeedbackSimulator;
    if (!simulator.inForeignContent) return;
    while (simulator.inForeignContent) simulator._leaveCurrentNamespace();
    this.level = simulator.namespaceStack.length;
    this.leavePoints(this.level);
  }

  /** Counts the end tags inside a MathML text integration point (see {@link onStartTag}). */
  override onEndTag(token: Token.TagToken): void {
    const level = this.internals.parserFeedbackSimulator.namespaceStack.length;
    this.leavePoints(level);
    const point = this.points.at(-1);
    if (point?.level === level && point.open > 0) point.open--;
    this.level = level;
    super.onEndTag(token);
  }

  /** Forgets the integration points the simulator left. */
  private leavePoints(level: number): void {
    while ((this.points.at(-1)?.level ?? 0) > level) this.points.pop();
  }
}
