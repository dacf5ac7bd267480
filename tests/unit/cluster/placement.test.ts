import { describe, expect, it } from 'vitest';
import { planClaims, planShed } from '../../../src/cluster/placement.js';

const load = (node: string, streams: number, capacity = 4) => ({ node, streams, capacity });

describe('planClaims', () => {
  it('pours the unowned cameras into the emptiest nodes; every node computes the same split', () => {
    const loads = [load('a', 0), load('b', 0), load('c', 1)];
    const cameras = ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5'];
    const plans = ['a', 'b', 'c'].map((me) => planClaims(me, loads, cameras));
    expect(plans).toEqual([['cam-1', 'cam-3'], ['cam-2', 'cam-4'], ['cam-5']]); // 2, 2, 1 + 1
    expect(plans.flat().sort()).toEqual(cameras);
  });

  it('a node at capacity claims nothing; cameras beyond the cluster`s room are left', () => {
    const loads = [load('a', 2, 2), load('b', 1, 2)];
    expect(planClaims('a', loads, ['x', 'y'])).toEqual([]);
    expect(planClaims('b', loads, ['x', 'y'])).toEqual(['x']);
  });

  it('an overdue camera goes to whoever has room, whatever the plan says', () => {
    const loads = [load('a', 0), load('b', 3)];
    expect(planClaims('b', loads, ['x'])).toEqual([]);
    expect(planClaims('b', loads, ['x'], new Set(['x']))).toEqual(['x']);
    expect(planClaims('b', [load('a', 0), load('b', 4)], ['x'], new Set(['x']))).toEqual([]);
  });

  it('a node that is not in the view claims nothing', () => {
    expect(planClaims('z', [load('a', 0)], ['x'])).toEqual([]);
  });
});

describe('planShed', () => {
  it('hands one camera over when another node with room has two fewer streams', () => {
    expect(planShed('a', [load('a', 3), load('b', 1)], ['cam-1', 'cam-3', 'cam-2'], 0)).toBe('cam-3');
    expect(planShed('a', [load('a', 3), load('b', 2)], ['cam-1', 'cam-2', 'cam-3'], 0)).toBeUndefined();
  });

  it('never while cameras wait for a node, nor towards a full node, nor without cameras of its own', () => {
    expect(planShed('a', [load('a', 3), load('b', 0)], ['cam-1'], 1)).toBeUndefined();
    expect(planShed('a', [load('a', 3), load('b', 1, 1)], ['cam-1'], 0)).toBeUndefined();
    expect(planShed('a', [load('a', 3), load('b', 0)], [], 0)).toBeUndefined(); // three WebRTC streams stay
  });
});
