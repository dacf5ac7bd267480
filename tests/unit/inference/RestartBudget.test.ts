/** Issue 15, supervision: crashed workers are replaced after a growing delay, and only so often. */
import { describe, expect, it } from 'vitest';
import { RestartBudget } from '../../../src/inference/RestartBudget.js';

describe('RestartBudget', () => {
  it('doubles the delay inside the window, caps it, and refuses past the budget', () => {
    const b = new RestartBudget({ initialMs: 100, maxMs: 350, budget: 4, windowMs: 1000 });
    expect([b.next(0), b.next(10), b.next(20), b.next(30)]).toEqual([100, 200, 350, 350]);
    expect(b.next(40)).toBeUndefined();
    expect(b.restarts).toBe(4);
  });

  it('grants again once old restarts leave the window, starting from the short delay', () => {
    const b = new RestartBudget({ initialMs: 100, maxMs: 10_000, budget: 2, windowMs: 1000 });
    expect([b.next(0), b.next(500), b.next(900)]).toEqual([100, 200, undefined]);
    expect(b.next(1001)).toBe(200); // the one at 0 left the window; the one at 500 is still in it
    expect(b.next(2100)).toBe(100); // both earlier ones are out of the window
  });

  it('refuses a nonsensical policy', () => {
    expect(() => new RestartBudget({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new RestartBudget({ initialMs: 500, maxMs: 100 })).toThrow(RangeError);
  });
});
