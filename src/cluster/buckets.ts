import { type KV, type KvEntry, KvWatchInclude, type NatsConnection, StorageType } from 'nats';
import type { ClusterNames } from './subjects.js';

export interface Buckets {
  /** The camera registry: camera id → `{name, url}` (the URL with its credentials). No expiry. */
  cameras: KV;
  /** Camera id → the node that analyses it; every entry expires `leaseMs` after it was written (max_age). */
  leases: KV;
  /** Node id → its record (load, streams); expires like a lease. */
  nodes: KV;
}

/**
 * Opens (creating on first use) the cluster's buckets, file-backed so that a broker restart keeps them. A bucket made
 * earlier with another `leaseMs` gets the new max_age (KV creation leaves an existing stream's settings alone).
 */
export async function openBuckets(nc: NatsConnection, names: ClusterNames, leaseMs: number, timeout: number) {
  const js = nc.jetstream({ timeout });
  const jsm = await nc.jetstreamManager({ timeout });
  const open = async (bucket: string, ttl: number) => {
    const kv = await js.views.kv(bucket, { history: 1, storage: StorageType.File, ...(ttl ? { ttl } : {}) });
    const stream = `KV_${bucket}`;
    const info = await jsm.streams.info(stream);
    const maxAge = ttl * 1_000_000;
    if (info.config.max_age !== maxAge) await jsm.streams.update(stream, { ...info.config, max_age: maxAge });
    return kv;
  };
  return {
    cameras: await open(names.cameras, 0),
    leases: await open(names.leases, leaseMs),
    nodes: await open(names.nodes, leaseMs),
  } satisfies Buckets;
}

/**
 * Every key's current value (deleted keys left out), read in one pass: an ordered consumer delivers the last message
 * of each key, then stops. Fails after `timeoutMs` rather than waiting for a broker that went away meanwhile.
 */
export async function readAll(kv: KV, timeoutMs: number): Promise<Map<string, KvEntry>> {
  const out = new Map<string, KvEntry>();
  let done!: () => void;
  const initialized = new Promise<void>((resolve) => {
    done = resolve;
  });
  const watch = await kv.watch({ include: KvWatchInclude.LastValue, initializedFn: () => done() });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading a bucket took over ${timeoutMs} ms`)), timeoutMs);
    });
    const reading = (async () => {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') out.set(entry.key, entry);
        else out.delete(entry.key);
      }
    })();
    await Promise.race([initialized, timeout, reading]);
    watch.stop();
    await reading; // what was queued before the stop (all of it, when it came before the watch was set up)
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  return out;
}
