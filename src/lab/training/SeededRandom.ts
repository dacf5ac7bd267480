/** A small seeded generator (mulberry32): the same seed gives the same sequence on every machine. */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A 31-bit integer, e.g. a seed for a tfjs initialiser or dropout mask. */
  int(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/**
 * Splits indices `0..labels.length-1` into (rest, held) with `fraction` of every class held back (at least one
 * per class when the class has two or more items), chosen by a seeded shuffle.
 */
export function stratifiedSplit(labels: readonly number[], fraction: number, rng: SeededRandom): [number[], number[]] {
  const byClass = new Map<number, number[]>();
  labels.forEach((l, i) => {
    const list = byClass.get(l) ?? [];
    list.push(i);
    byClass.set(l, list);
  });
  const rest: number[] = [];
  const held: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle([...(byClass.get(cls) as number[])]);
    let n = Math.round(idx.length * fraction);
    if (fraction > 0 && n === 0 && idx.length >= 2) n = 1;
    held.push(...idx.slice(0, n));
    rest.push(...idx.slice(n));
  }
  return [rest.sort((a, b) => a - b), held.sort((a, b) => a - b)];
}
