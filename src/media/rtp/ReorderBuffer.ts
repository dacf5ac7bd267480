import { type RtpPacketIn, seqDelta } from './rtpPacket.js';

export interface ReorderBufferOptions {
  deliver: (packet: RtpPacketIn) => void;
  /** How long a hole may wait for a retransmission (werift NACKs, Chrome resends) before it is given up. */
  maxDelayMs?: number;
  /** Holding more packets than this gives the hole up at once. */
  maxPackets?: number;
  now?: () => number;
}

/**
 * Puts packets back in sequence order. NACK retransmissions arrive late and out of order; without this every
 * recovered loss would look like a gap. A hole is waited for `maxDelayMs` (checked on each push and on `flush()`),
 * then skipped: the assembler sees the gap and asks for a keyframe.
 */
export class ReorderBuffer {
  readonly #deliver: (packet: RtpPacketIn) => void;
  readonly #maxDelayMs: number;
  readonly #maxPackets: number;
  readonly #now: () => number;
  readonly #held = new Map<number, RtpPacketIn>();
  #next: number | undefined;
  #holeSince = 0;
  reordered = 0;
  skippedHoles = 0;

  constructor(options: ReorderBufferOptions) {
    this.#deliver = options.deliver;
    this.#maxDelayMs = options.maxDelayMs ?? 150;
    this.#maxPackets = options.maxPackets ?? 256;
    this.#now = options.now ?? Date.now;
  }

  get held(): number {
    return this.#held.size;
  }

  push(packet: RtpPacketIn): void {
    if (this.#next === undefined) this.#next = packet.seq;
    const d = seqDelta(this.#next, packet.seq);
    if (d < 0) {
      this.#deliver(packet); // older than what was delivered: the assembler counts it as late
      return;
    }
    if (d === 0) {
      if (this.#held.size > 0) this.reordered++;
      this.#emit(packet);
      this.#drain();
    } else if (!this.#held.has(packet.seq)) {
      if (this.#held.size === 0) this.#holeSince = this.#now();
      this.#held.set(packet.seq, packet);
    }
    this.flush();
  }

  /** Gives up holes that waited too long. Call it from a timer too, in case packets stop coming. */
  flush(): void {
    while (
      this.#held.size > 0 &&
      (this.#held.size > this.#maxPackets || this.#now() - this.#holeSince >= this.#maxDelayMs)
    ) {
      this.skippedHoles++;
      this.#next = this.#oldestHeld();
      this.#drain();
      if (this.#held.size > 0) this.#holeSince = this.#now();
    }
  }

  #emit(packet: RtpPacketIn): void {
    this.#next = (packet.seq + 1) & 0xffff;
    this.#deliver(packet);
  }

  #drain(): void {
    for (;;) {
      if (this.#next === undefined) return;
      const p = this.#held.get(this.#next);
      if (!p) return;
      this.#held.delete(this.#next);
      this.#emit(p);
    }
  }

  #oldestHeld(): number {
    const next = this.#next ?? 0;
    let best: number | undefined;
    for (const seq of this.#held.keys()) {
      if (best === undefined || seqDelta(next, seq) < seqDelta(next, best)) best = seq;
    }
    return best ?? next;
  }
}
