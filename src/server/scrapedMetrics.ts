import { Counter, Gauge, type Registry } from 'prom-client';

/** Labelled values, read when `/metrics` is scraped. */
export type Samples = [Record<string, string>, number][];

/**
 * Metrics whose values live in the components that own them (counters of streams, the pool, the bus, the sinks):
 * each is read at scrape time, never pushed.
 */
export class ScrapedMetrics {
  readonly #registers: Registry[];

  constructor(registry: Registry) {
    this.#registers = [registry];
  }

  /** A counter: the totals its owner keeps. */
  counter(name: string, help: string, labelNames: string[], read: () => Samples): void {
    new Counter({
      name,
      help,
      labelNames,
      registers: this.#registers,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  }

  /** A gauge: a level (queue depth, workers) or, with value 1, an info metric whose labels say the state. */
  gauge(name: string, help: string, labelNames: string[], read: () => Samples): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: this.#registers,
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }
}

/** One unlabelled sample. */
export function single(value: number): Samples {
  return [[{}, value]];
}
