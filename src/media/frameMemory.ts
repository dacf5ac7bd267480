/**
 * Shared memory for decoded frames, recycled: a new SharedArrayBuffer costs about 3 ms per 640x480 frame here (fresh
 * pages, zeroed and faulted in), ten times the copy out of ffmpeg's pipe, so a frame's memory goes back to a free list
 * when its consumer releases it (`Frame.release`) and the next frame of that size takes it. Frames never released
 * (a consumer that keeps them) are simply garbage-collected; the free lists are bounded.
 */
const MAX_FREE_PER_SIZE = 32;
const free = new Map<number, Buffer[]>();

/** A buffer of `bytes` in shared memory: a released one when there is one, else a new one. */
export function acquireFrameMemory(bytes: number): Buffer {
  return free.get(bytes)?.pop() ?? Buffer.from(new SharedArrayBuffer(bytes));
}

/** A release function for a frame's memory: the first call gives it back; later calls do nothing. */
export function releaser(memory: Buffer): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    let list = free.get(memory.byteLength);
    if (!list) {
      list = [];
      free.set(memory.byteLength, list);
    }
    if (list.length < MAX_FREE_PER_SIZE) list.push(memory);
  };
}
