import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../src/core/types.js';
import { LatestFrameSlot } from '../../../src/media/LatestFrameSlot.js';

function frame(seq: number): Frame {
  return { data: new Uint8Array(12).fill(seq), width: 2, height: 2, ts: 1000 + seq, seq };
}

describe('LatestFrameSlot', () => {
  it('hands over the newest frame once and counts overwritten frames as dropped', () => {
    const slot = new LatestFrameSlot();
    expect(slot.take()).toBeUndefined();
    slot.put(frame(0));
    expect(slot.take()?.seq).toBe(0);
    expect(slot.take()).toBeUndefined();
    for (let i = 1; i <= 5; i++) slot.put(frame(i));
    expect(slot.hasFrame).toBe(true);
    expect(slot.take()?.seq).toBe(5);
    expect(slot.received).toBe(6);
    expect(slot.dropped).toBe(4);
  });

  it('clear() forgets the waiting frame without counting a drop', () => {
    const slot = new LatestFrameSlot();
    slot.put(frame(1));
    slot.clear();
    expect(slot.take()).toBeUndefined();
    expect(slot.dropped).toBe(0);
  });
});
