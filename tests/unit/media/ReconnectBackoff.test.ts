import { describe, expect, it } from 'vitest';
import { ReconnectBackoff } from '../../../src/media/ReconnectBackoff.js';

describe('ReconnectBackoff', () => {
  it('doubles from 1 s to a 30 s cap by default', () => {
    const b = new ReconnectBackoff();
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(b.attempts).toBe(8);
  });

  it('starts again from the initial delay after reset()', () => {
    const b = new ReconnectBackoff({ initialMs: 200, maxMs: 1000 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([200, 400, 800, 1000]);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(200);
  });

  it('never overflows after many attempts', () => {
    const b = new ReconnectBackoff({ initialMs: 1, maxMs: 5000 });
    for (let i = 0; i < 2000; i++) b.next();
    expect(b.next()).toBe(5000);
  });

  it('rejects an impossible schedule', () => {
    expect(() => new ReconnectBackoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new ReconnectBackoff({ initialMs: 5000, maxMs: 1000 })).toThrow(RangeError);
  });
});
