import { connect, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBuckets, readAll } from '../../src/cluster/buckets.js';
import { LeaseTable } from '../../src/cluster/LeaseTable.js';
import { clusterNames } from '../../src/cluster/subjects.js';
import { ensureNatsServer, type NatsBroker, startNats } from '../fixtures/natsServer.js';
import { freePort } from '../fixtures/rtspServer.js';

/** The lease protocol on a real nats-server 2.9 bucket (docs/scaling.md, "Ownership"). */

let broker: NatsBroker;
let nc: NatsConnection;
let leases: KV;
const LEASE_MS = 1500;

beforeAll(async () => {
  ensureNatsServer();
  broker = await startNats(await freePort());
  nc = await connect({ servers: broker.url });
  leases = (await openBuckets(nc, clusterNames('unit'), LEASE_MS, 2000)).leases;
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await broker?.stop();
});

const table = (node: string) => new LeaseTable({ node, leaseMs: LEASE_MS, renewMs: 500 });

describe('leases', () => {
  it('one node claims, the other cannot; renewals keep it; release frees it at once', async () => {
    const [a, b] = [table('a'), table('b')];
    expect(await a.claim(leases, 'cam-1')).toBe(true);
    expect(await b.claim(leases, 'cam-1')).toBe(false);
    expect(await a.renew(leases)).toEqual([]);
    expect(a.counters).toMatchObject({ claimed: 1, renewed: 1, lost: 0 });
    expect((await leases.get('cam-1'))?.json()).toMatchObject({ node: 'a' });
    await a.release(leases, 'cam-1');
    expect(a.holds('cam-1')).toBe(false);
    expect(await b.claim(leases, 'cam-1')).toBe(true);
    expect([...(await readAll(leases, 2000)).keys()]).toEqual(['cam-1']);
    await b.release(leases, 'cam-1');
    expect((await readAll(leases, 2000)).size).toBe(0);
  });

  it('an unrenewed lease expires at the broker (max_age); another node takes it; the old holder learns it lost it', async () => {
    const [a, b] = [table('a'), table('b')];
    expect(await a.claim(leases, 'cam-2')).toBe(true);
    const deadline = Date.now() + 10 * LEASE_MS;
    while (!(await b.claim(leases, 'cam-2'))) {
      if (Date.now() > deadline) throw new Error('the lease never expired');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await a.renew(leases)).toEqual(['cam-2']); // compare-and-set: a's revision is not the key's
    expect(a.holds('cam-2')).toBe(false);
    expect(a.counters.lost).toBe(1);
    expect((await leases.get('cam-2'))?.json()).toMatchObject({ node: 'b' });
    await b.release(leases, 'cam-2');
  });

  it('the fence gives a lease up a renewal period before it could expire, and not before', async () => {
    const a = table('a');
    const before = performance.now();
    expect(await a.claim(leases, 'cam-3')).toBe(true);
    const after = performance.now();
    // Sent between `before` and `after`: the broker keeps it until at least sentAt + leaseMs.
    expect(a.expiring(before + LEASE_MS - 500 - 1)).toEqual([]);
    expect(a.expiring(after + LEASE_MS - 500)).toEqual(['cam-3']);
    expect(a.holds('cam-3')).toBe(false);
    expect(a.counters.expired).toBe(1);
    await leases.purge('cam-3');
  });

  it('a bucket made with another lease period gets the configured one', async () => {
    const other = await openBuckets(nc, clusterNames('unit'), 2 * LEASE_MS, 2000);
    expect((await other.leases.status()).ttl).toBe(2 * LEASE_MS);
    expect((await other.cameras.status()).ttl).toBe(0); // the registry never expires
  });
});
