/**
 * Figures of the fault suite (docs/reliability.md): what was injected, what survived, descriptors and RSS before and
 * after, time to recover. Each record is printed as one `FAULT {...}` line and appended to FAULT_REPORT (default
 * $TMPDIR/emostream-faults.jsonl), from which the tables in docs/reliability.md are copied.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

/** FAULT_SCALE multiplies inputs and durations: 1 in the test suite (bounded), 10+ for `npm run soak:faults`. */
export const SCALE = Math.max(1, Number(process.env.FAULT_SCALE ?? 1) || 1);

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

export interface Snapshot {
  fds: number;
  rssMb: number;
}

/** Open descriptors and RSS of this process (the server runs in it), after a garbage collection. */
export async function snapshot(): Promise<Snapshot> {
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  return {
    fds: readdirSync('/proc/self/fd').length,
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
}

export interface FaultRecord {
  fault: string;
  injected: number;
  survived: number;
  before: Snapshot;
  after: Snapshot;
  /** Time to recover, per injection, ms. */
  recoveryMs?: number[];
  notes?: string;
}

export function record(entry: FaultRecord): void {
  const line = JSON.stringify({ at: new Date().toISOString(), scale: SCALE, ...entry });
  console.log(`FAULT ${line}`);
  appendFileSync(process.env.FAULT_REPORT ?? join(tmpdir(), 'emostream-faults.jsonl'), `${line}\n`);
}

/** Polls `cond` (sync or async) every 25 ms; resolves with the time it took, rejects after `timeoutMs`. */
export async function until(what: string, cond: () => unknown, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
