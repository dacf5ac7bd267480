import { InvalidStateError } from './errors.js';

/**
 * The lifecycle rule in one place: `close()` runs the owner's teardown once, every later call returns the same
 * promise, and `assertOpen()` throws `InvalidStateError` after close began.
 */
export class CloseOnce {
  #promise: Promise<void> | undefined;
  readonly #what: string;
  readonly #teardown: () => Promise<void> | void;

  constructor(what: string, teardown: () => Promise<void> | void) {
    this.#what = what;
    this.#teardown = teardown;
  }

  get closed(): boolean {
    return this.#promise !== undefined;
  }

  close(): Promise<void> {
    this.#promise ??= Promise.resolve().then(() => this.#teardown());
    return this.#promise;
  }

  assertOpen(): void {
    if (this.#promise) throw new InvalidStateError(`${this.#what} is closed`);
  }
}
