import { describe, expect, it } from 'vitest';
import { solveAssignment } from '../../../src/tracking/hungarian.js';
import { seededRandom as rng } from '../../helpers/seededRandom.js';

/** Minimum total cost over all assignments of min(rows, cols) pairs, by brute force. */
function bruteForce(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = Number.POSITIVE_INFINITY;
  const used = new Array(cols).fill(false);
  const k = Math.min(rows, cols);
  const walk = (row: number, assigned: number, total: number) => {
    if (assigned === k) {
      best = Math.min(best, total);
      return;
    }
    if (row >= rows || rows - row < k - assigned) return;
    if (rows > cols) walk(row + 1, assigned, total); // this row may stay unassigned
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      walk(row + 1, assigned + 1, total + (cost[row]?.[c] ?? 0));
      used[c] = false;
    }
  };
  walk(0, 0, 0);
  return best;
}

describe('solveAssignment', () => {
  it('matches brute force on 300 random matrices, square and rectangular', () => {
    const random = rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(random() * 5);
      const cols = 1 + Math.floor(random() * 5);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round(random() * 100)));
      const assignment = solveAssignment(cost);
      expect(assignment).toHaveLength(rows);
      const cols_ = assignment.filter((c) => c >= 0);
      expect(new Set(cols_).size).toBe(cols_.length); // no column twice
      expect(cols_.length).toBe(Math.min(rows, cols));
      const total = assignment.reduce((sum, c, r) => sum + (c >= 0 ? (cost[r]?.[c] ?? 0) : 0), 0);
      expect(total).toBe(bruteForce(cost));
    }
  });

  it('handles empty input', () => {
    expect(solveAssignment([])).toEqual([]);
    expect(solveAssignment([[], []])).toEqual([-1, -1]);
  });
});
