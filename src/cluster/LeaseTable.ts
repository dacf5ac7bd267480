import type { KV } from 'nats';

interface Lease {
  revision: number;
  /** Local monotonic time at which the write that gave `revision` was sent. */
  sentAt: number;
}

export interface LeaseCounters {
  claimed: number;
  renewed: number;
  /** Taken by another node (our renewal found another revision). */
  lost: number;
  /** Given up before they could expire, because they could not be renewed (the broker unreachable). */
  expired: number;
  released: number;
}

/** The KV error when the key's revision is not the one expected: another node's write came first. */
const WRONG_LAST_SEQUENCE = 10071;

export function isCasConflict(err: unknown): boolean {
  return (err as { api_error?: { err_code?: number } })?.api_error?.err_code === WRONG_LAST_SEQUENCE;
}

/**
 * The leases this node holds (docs/scaling.md, "Ownership"). The bucket's max_age is the lease period: an entry
 * disappears `leaseMs` after it was written unless it is written again. Claim = create (only if the key is absent);
 * renew = update with the revision we wrote last; release = delete with that revision. Every write is a
 * compare-and-set on the revision, so a node can only ever extend a lease nobody has taken from it.
 *
 * The broker stores a renewal after we sent it, so it expires no earlier than `sentAt + leaseMs`; the node gives a
 * camera up (`expiring`) at `sentAt + leaseMs - renewMs`: before anyone else can have it, with `renewMs` to stop.
 */
export class LeaseTable {
  readonly #held = new Map<string, Lease>();
  readonly #node: string;
  readonly #leaseMs: number;
  readonly #guardMs: number;
  readonly counters: LeaseCounters = { claimed: 0, renewed: 0, lost: 0, expired: 0, released: 0 };

  constructor(options: { node: string; leaseMs: number; renewMs: number }) {
    this.#node = options.node;
    this.#leaseMs = options.leaseMs;
    this.#guardMs = options.renewMs;
  }

  get size(): number {
    return this.#held.size;
  }

  held(): string[] {
    return [...this.#held.keys()];
  }

  holds(id: string): boolean {
    return this.#held.has(id);
  }

  /** True when this node now holds the lease; false when another node does. */
  async claim(kv: KV, id: string): Promise<boolean> {
    const sentAt = performance.now();
    try {
      const revision = await kv.create(id, this.#value());
      this.#held.set(id, { revision, sentAt });
      this.counters.claimed++;
      return true;
    } catch (err) {
      if (isCasConflict(err)) return false;
      throw err;
    }
  }

  /**
   * Renews every lease. Returns those another node holds now (lost: stop them at once). A renewal that fails for
   * another reason (no answer) leaves the lease to `expiring`.
   */
  async renew(kv: KV): Promise<string[]> {
    const lost: string[] = [];
    await Promise.all(
      [...this.#held].map(async ([id, lease]) => {
        const sentAt = performance.now();
        try {
          const revision = await kv.update(id, this.#value(), lease.revision);
          if (this.#held.get(id) !== lease) {
            // Given up while the renewal was on its way: hand it back rather than hold it unused until it expires.
            await kv.delete(id, { previousSeq: revision }).catch(() => undefined);
            return;
          }
          this.#held.set(id, { revision, sentAt });
          this.counters.renewed++;
        } catch (err) {
          if (!isCasConflict(err) || this.#held.get(id) !== lease) return;
          this.#held.delete(id);
          this.counters.lost++;
          lost.push(id);
        }
      }),
    );
    return lost;
  }

  /** The leases that could end before this node stops their cameras, were it to wait any longer: forgotten here. */
  expiring(now = performance.now()): string[] {
    const out: string[] = [];
    for (const [id, lease] of this.#held) {
      if (now < lease.sentAt + this.#leaseMs - this.#guardMs) continue;
      this.#held.delete(id);
      this.counters.expired++;
      out.push(id);
    }
    return out;
  }

  /** Gives a lease up (its camera is stopped already): deleted if it is still ours, else left to its holder. */
  async release(kv: KV | undefined, id: string): Promise<void> {
    const lease = this.#held.get(id);
    if (!lease) return;
    this.#held.delete(id);
    this.counters.released++;
    await kv?.delete(id, { previousSeq: lease.revision }).catch(() => undefined);
  }

  /** Forgets a lease without a word to the broker (it expires there by itself). */
  forget(id: string): void {
    this.#held.delete(id);
  }

  #value(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ node: this.#node, at: Date.now() }));
  }
}
