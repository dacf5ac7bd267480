import { EventEmitter } from 'node:events';

/** An EventEmitter whose event names and payloads are checked by the compiler. */
/** Event name → listener signature. Interfaces qualify too (no index signature needed). */
// biome-ignore lint/suspicious/noExplicitAny: listener argument lists are generic by design
export type EventMap<E> = { [K in keyof E]: (...args: any[]) => void };

export class TypedEmitter<E extends EventMap<E>> {
  readonly #inner = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: E[K]): this {
    this.#inner.on(event, listener);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: E[K]): this {
    this.#inner.once(event, listener);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: E[K]): this {
    this.#inner.off(event, listener);
    return this;
  }

  protected emit<K extends keyof E & string>(event: K, ...args: Parameters<E[K]>): boolean {
    return this.#inner.emit(event, ...args);
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#inner.listenerCount(event);
  }

  removeAllListeners(): void {
    this.#inner.removeAllListeners();
  }
}
