/**
 * A one-line progress bar on a stream (stderr). On a terminal it redraws in place; otherwise (logs, CI) it writes
 * a line only when told to (`line`), so logs stay readable.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  readonly #width: number;
  #lastDraw = 0;

  constructor(stream: NodeJS.WriteStream, label: string, width = 30) {
    this.#stream = stream;
    this.#label = label;
    this.#width = width;
  }

  /** Redraws the bar (at most every 100 ms on a terminal; nothing elsewhere). */
  update(done: number, total: number, info = ''): void {
    if (!this.#stream.isTTY) return;
    const now = Date.now();
    if (now - this.#lastDraw < 100 && done < total) return;
    this.#lastDraw = now;
    this.#stream.write(`\r${render(this.#label, done, total, this.#width, info)}\x1b[K`);
  }

  /** A finished line (kept on screen and in logs). */
  line(done: number, total: number, info = ''): void {
    const text = render(this.#label, done, total, this.#width, info);
    this.#stream.write(this.#stream.isTTY ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}

export function render(label: string, done: number, total: number, width: number, info: string): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const full = Math.round(frac * width);
  return `${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total}${info ? ` ${info}` : ''}`;
}
