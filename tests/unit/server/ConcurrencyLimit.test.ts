/** Issue 15, finding 6: uploads are analyzed a few at a time; the rest wait in order or are refused at once. */
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../../src/core/errors.js';
import { ConcurrencyLimit } from '../../../src/server/ConcurrencyLimit.js';

describe('ConcurrencyLimit', () => {
  it('runs max at once, queues maxWaiting in order, refuses the rest with TOO_BUSY', async () => {
    const limit = new ConcurrencyLimit(2, 2);
    const releases: (() => void)[] = [];
    const order: number[] = [];
    const task = (n: number) => () =>
      new Promise<number>((resolve) => {
        order.push(n);
        releases.push(() => resolve(n));
      });
    const runs = [1, 2, 3, 4, 5].map((n) => limit.run(task(n)).catch((err: unknown) => errorCode(err)));
    await Promise.resolve();
    expect([limit.running, limit.waiting, limit.refused]).toEqual([2, 2, 1]);
    expect(order).toEqual([1, 2]);
    while (releases.length > 0) {
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(await Promise.all(runs)).toEqual([1, 2, 3, 4, 'TOO_BUSY']);
    expect(order).toEqual([1, 2, 3, 4]);
    expect([limit.running, limit.waiting]).toEqual([0, 0]);
  });

  it('frees the slot when a task fails', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit.run(async () => 7)).toBe(7);
  });
});
