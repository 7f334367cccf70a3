/**
 * A stand-in for `react-dom/server`'s two streaming renderers, for docs/response.md's
 * "Streaming server rendering (React)" recipe (test/ssr-recipe.test.ts), so the tests do not
 * depend on React. It streams as React 19 does: the shell once rendered, then each
 * `<Suspense>` boundary when its data resolves (400 ms and 600 ms here); `pipe()` stops
 * writing between boundaries while the destination's `write()` answers `false`, until
 * `drain`; a destination closed early aborts the render; `abort()` calls `onError` once per
 * pending boundary and ends the stream with them left to the client; a fatal error destroys
 * the destination (`pipe`) or errors the stream (`renderToReadableStream`).
 *
 * The page's `url` prop picks the case: `shell-error` (the shell throws), `boundary-error` (a
 * boundary's data fails: recoverable), `fatal` (a fatal error after the shell), else the
 * plain page. `state` counts the timers still set and records the aborts.
 */
import type { Writable } from 'node:stream';

export interface Element {
  type: unknown;
  props: { url?: string };
}

export interface RenderOptions {
  bootstrapScripts?: string[];
  signal?: AbortSignal;
  onShellReady?: () => void;
  onShellError?: (error: unknown) => void;
  onError?: (error: unknown) => void;
}

/** What the tests look at: timers still set, aborts seen, `onError` calls. */
export const state = { timers: 0, aborts: [] as string[], errors: [] as unknown[] };

/** `react`'s `createElement`, as far as the recipe uses it. */
export function createElement(type: unknown, props: { url?: string }): Element {
  return { type, props };
}

/** The recipe's page component: nothing to render, the renderer reads the props. */
export const App = { name: 'App' };

/** The page's data for boundary `i`, long enough that gzip has something to do. */
export const boundaryText = (i: number): string => `<div hidden id="S:${i}"><p>data ${i} ${'x'.repeat(3000)}</p></div><script>$RC("B:${i}","S:${i}")</script>`;

const DELAYS = [400, 600];

interface Sink {
  write(text: string): boolean;
  end(): void;
  fail(error: unknown): void;
  whenReady(go: () => void): void;
}

class Render {
  shellReady = false;
  done = false;
  queue: string[] = [];
  sink: Sink | undefined;
  cancels = new Set<() => void>();
  pending = new Set<number>();

  readonly url: string;
  readonly options: RenderOptions;
  readonly onShell: (error?: unknown) => void;

  constructor(url: string, options: RenderOptions, onShell: (error?: unknown) => void) {
    this.url = url;
    this.options = options;
    this.onShell = onShell;
    this.later(0, () => this.renderShell());
  }

  later(ms: number, fn: () => void): void {
    state.timers++;
    let cleared = false;
    const cancel = () => {
      if (cleared) return;
      cleared = true;
      clearTimeout(timer);
      this.cancels.delete(cancel);
      state.timers--;
    };
    const timer = setTimeout(() => {
      cancel();
      fn();
    }, ms);
    this.cancels.add(cancel);
  }

  renderShell(): void {
    if (this.url.includes('shell-error')) {
      const error = new Error('the shell failed');
      this.done = true;
      this.report(error);
      this.onShell(error);
      return;
    }
    this.shellReady = true;
    const scripts = this.options.bootstrapScripts ?? [];
    this.queue.push(
      `<!DOCTYPE html><html><head>${scripts.map((s) => `<link rel="preload" as="script" href="${s}"/>`).join('')}</head><body><main>shell</main>` +
        DELAYS.map((_, i) => `<!--$?--><template id="B:${i}"></template><p>loading ${i}</p><!--/$-->`).join('') +
        scripts.map((s) => `<script src="${s}" async=""></script>`).join(''),
    );
    DELAYS.forEach((ms, i) => {
      this.pending.add(i);
      this.later(ms, () => this.completeBoundary(i));
    });
    this.onShell();
  }

  completeBoundary(i: number): void {
    this.pending.delete(i);
    if (this.url.includes('fatal')) return this.fatal(new Error('a fatal error after the shell'));
    if (this.url.includes('boundary-error') && i === 0) {
      this.report(new Error('the data of boundary 0 failed'));
      this.queue.push(`<script>$RX("B:${i}")</script>`);
    } else this.queue.push(boundaryText(i));
    if (this.pending.size === 0) this.queue.push('</body></html>');
    this.flush();
  }

  report(error: unknown): void {
    state.errors.push(error);
    this.options.onError?.(error);
  }

  fatal(error: unknown): void {
    this.stop();
    this.report(error);
    this.sink?.fail(error);
  }

  stop(): void {
    this.done = true;
    for (const cancel of [...this.cancels]) cancel();
  }

  /** Writes what is queued while the sink has room; ends once the last boundary is written. */
  flush(): void {
    const sink = this.sink;
    if (sink === undefined || this.done) return;
    while (this.queue.length > 0) {
      const text = this.queue.shift()!;
      if (!sink.write(text) && this.queue.length > 0) return sink.whenReady(() => this.flush());
    }
    if (this.pending.size === 0) {
      this.done = true;
      sink.end();
    }
  }

  abort(reason: unknown): void {
    if (this.done) return;
    state.aborts.push(reason instanceof Error ? reason.message : String(reason));
    const error = reason ?? new Error('The render was aborted by the server without a reason.');
    if (!this.shellReady) {
      this.stop();
      this.report(error);
      this.onShell(error);
      return;
    }
    for (const i of this.pending) {
      this.report(error);
      this.queue.push(`<script>$RX("B:${i}")</script>`);
    }
    this.pending.clear();
    for (const cancel of [...this.cancels]) cancel();
    this.queue.push('</body></html>');
    this.flush();
  }
}

/** `renderToPipeableStream`, as React 19's: `pipe(writable)` once the shell is ready. */
export function renderToPipeableStream(element: Element, options: RenderOptions) {
  const render = new Render(element.props.url ?? '/', options, (error) => {
    if (error === undefined) options.onShellReady?.();
    else options.onShellError?.(error);
  });
  return {
    pipe(destination: Writable) {
      destination.on('close', () => {
        if (!render.done) render.abort(new Error('The destination stream closed early.'));
      });
      render.sink = {
        write: (text) => destination.write(text),
        end: () => destination.end(),
        fail: (error) => destination.destroy(error as Error),
        whenReady: (go) => destination.once('drain', go),
      };
      render.flush();
      return destination;
    },
    abort(reason?: unknown) {
      render.abort(reason);
    },
  };
}

/** `renderToReadableStream`, as React 19's: resolves once the shell is ready, rejects if it fails. */
export function renderToReadableStream(element: Element, options: RenderOptions): Promise<ReadableStream<Uint8Array>> {
  return new Promise((resolve, reject) => {
    const encoder = new TextEncoder();
    const render: Render = new Render(element.props.url ?? '/', options, (error) => {
      if (error !== undefined) return reject(error);
      resolve(
        new ReadableStream<Uint8Array>({
          start(controller) {
            render.sink = {
              write: (text) => (controller.enqueue(encoder.encode(text)), true), // React does not wait for the reader
              end: () => controller.close(),
              fail: (failure) => controller.error(failure),
              whenReady: (go) => go(),
            };
            render.flush();
          },
          cancel(reason) {
            render.abort(reason);
          },
        }),
      );
    });
    const signal = options.signal;
    signal?.addEventListener('abort', () => render.abort(signal.reason), { once: true });
  });
}
