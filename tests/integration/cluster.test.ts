import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../fixtures/mosquitto.js';
import { ensureNatsServer, type NatsBroker, startNats } from '../fixtures/natsServer.js';
import { freePort, type RtspTestServer, startRtspServer } from '../fixtures/rtspServer.js';
import { type NodeProcess, owners, startNode, watchOwnership } from '../helpers/clusterNodes.js';
import { subscribe, waitFor } from '../helpers/serverHarness.js';
import { SHARED_DATA } from '../helpers/sharedData.js';
import { offerOverSignal } from '../helpers/signalOffer.js';

/**
 * Issue 17: three `emostream serve` nodes (real processes) share five cameras (four RTSP test patterns from two
 * GStreamer servers and a looped video with faces) through a real nats-server with JetStream. Leases are short here
 * (3 s, renewed every second) so that the test stays within a couple of minutes; the real defaults are measured by
 * `node scripts/bench-cluster.mjs` (docs/scaling.md).
 *
 * Bounds: a dead node's camera is free `leaseMs` after its last renewal (at most 3 s after the kill), found within
 * two rounds (2 s) and live once ffmpeg has a first frame (1-3 s on this loaded 2-core machine): 15 s is the
 * generous bound used below. A camera must never be analysed by two nodes at once for a lease period or more; the
 * fence makes it zero by design, and the watcher below measures it every 100 ms throughout.
 */

const LEASE_MS = 3000;
const TAKEOVER_BOUND_MS = 15_000;
const FACES = 'fr_short_hamilton_clip.mp4';

const dir = mkdtempSync(join(tmpdir(), 'emostream-cluster-'));
let broker: NatsBroker;
const rtsp: RtspTestServer[] = [];
const nodes = new Map<string, NodeProcess>();
let relay: Awaited<ReturnType<typeof startRelay>>;
let relayPort: number;
const cameras: string[] = [];
let watcher: ReturnType<typeof watchOwnership>;

function config(name: string, url: string) {
  return {
    models: { workers: 1 },
    files: { allowDir: `${SHARED_DATA}/video` },
    analysis: { fps: 3 },
    limits: { maxStreams: 3 },
    cluster: {
      url,
      name: 'test',
      node: name,
      leaseMs: LEASE_MS,
      renewMs: 1000,
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
    },
  };
}

async function node(name: string, viaRelay = false): Promise<NodeProcess> {
  const n = await startNode(name, dir, config(name, viaRelay ? `nats://127.0.0.1:${relayPort}` : broker.url));
  nodes.set(name, n);
  return n;
}

const alive = () => [...nodes.values()];
const the = (name: string) => nodes.get(name) as NodeProcess;

/** Every camera owned by exactly one live node, running (ffmpeg) there and nowhere else; returns who has what. */
async function settled(what: string, timeoutMs = TAKEOVER_BOUND_MS): Promise<Map<string, string[]>> {
  let last = new Map<string, string[]>();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      last = await owners(alive());
      const exact = cameras.every((c) => last.get(c)?.length === 1);
      const lists = exact ? await Promise.all(alive().map((n) => n.streams())) : [];
      const live = lists.every((list) => cameras.every((c) => list.find((s) => s.id === c)?.state === 'live'));
      if (exact && live) return last;
      if (Date.now() > deadline) throw new Error(`${what}: not settled within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}; owners ${JSON.stringify([...last])}`);
  }
}

function load(map: Map<string, string[]>, name: string): number {
  return [...map.values()].filter((o) => o[0] === name).length;
}

beforeAll(async () => {
  ensureNatsServer();
  broker = await startNats(await freePort());
  relayPort = await freePort();
  relay = await startRelay(relayPort, broker.port);
  rtsp.push(await startRtspServer(await freePort(), { width: 320, height: 240, fps: 10 }));
  rtsp.push(await startRtspServer(await freePort(), { width: 320, height: 240, fps: 10 }));
}, 60_000);

afterAll(async () => {
  await watcher?.stop();
  await Promise.all(alive().map((n) => n.kill9()));
  await relay?.close();
  await Promise.all(rtsp.map((r) => r.stop()));
  await broker?.stop();
});

describe('three nodes over NATS JetStream', () => {
  it('each camera is analysed by exactly one node, and a subscriber on A receives the events of a camera C owns', async () => {
    // C first, alone: the camera with faces is its own.
    const c = await node('c');
    const faces = await c.addCamera('faces', FACES);
    expect(faces.status).toBe(201);
    cameras.push(faces.body.id as string);
    await settled('faces on C');
    watcher = watchOwnership(alive, () => cameras);
    const [a, b] = await Promise.all([node('a'), node('b', true)]);
    for (const [i, server] of rtsp.entries()) {
      for (const mount of ['h264', 'vp8']) {
        const via = i === 0 ? a : b;
        const res = await via.addCamera(`pattern ${i} ${mount}`, `rtsp://127.0.0.1:${server.port}/${mount}`);
        expect(res.status).toBe(201);
        cameras.push(res.body.id as string);
      }
    }
    const placed = await settled('five cameras on three nodes', 30_000);
    expect(load(placed, 'c')).toBeGreaterThanOrEqual(1);
    for (const n of alive()) {
      const count = load(placed, n.name);
      expect(count, n.name).toBeLessThanOrEqual(3); // limits.maxStreams
      expect(n.ffmpegs().length, `${n.name}: one ffmpeg per camera it analyses`).toBe(count);
      const list = await n.streams();
      // Every node lists every camera, with the node that analyses it.
      expect(list.map((s) => [s.id, s.node]).sort()).toEqual(cameras.map((id) => [id, placed.get(id)?.[0]]).sort());
    }
    expect((await c.addCamera('faces', FACES)).status).toBe(409); // the name is the cluster's

    const ws = subscribe(a.url, `?stream=${cameras[0]}&types=face.new,face.update`);
    await ws.opened;
    const seen = await waitFor(
      'a face event of C on A',
      () => ws.messages.find((m) => m.type === 'face.update'),
      30_000,
    );
    expect(seen).toMatchObject({ streamId: cameras[0] });
    ws.ws.close();
    const health = await a.cluster();
    expect(health).toMatchObject({ state: 'connected', node: 'a', nodes: 3 });
    expect(health?.events.in).toBeGreaterThan(0);
  }, 180_000);

  it('a WebRTC publisher on B: its stream runs on B, C lists it and gets its events, a DELETE on C ends it on B', async () => {
    const sub = subscribe(the('c').url, '?types=stream.state');
    await sub.opened;
    const { pub, ws, reply } = await offerOverSignal(the('b').url);
    const id = reply.streamId as string;
    expect(id).toMatch(/^webrtc-b-/); // ids name their node: two nodes never give the same one
    await pub.setRemoteDescription({ type: 'answer', sdp: reply.sdp as string });
    try {
      let listed: Awaited<ReturnType<NodeProcess['streams']>>[number] | undefined;
      const deadline = Date.now() + 10_000;
      while (!listed && Date.now() < deadline) {
        listed = (await the('c').streams()).find((x) => x.id === id);
        if (!listed) await sleep(100);
      }
      expect(listed).toMatchObject({ node: 'b', kind: 'webrtc' });
      expect((await the('b').cluster())?.owned).not.toContain(id); // local to B, not a leased camera
      await waitFor('its stream.state on C', () => sub.messages.find((m) => m.streamId === id), 10_000);
      const del = await fetch(`${the('c').url}/api/streams/${id}`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      await waitFor(
        'closed, as seen on C',
        () => sub.messages.find((m) => m.streamId === id && m.state === 'closed'),
        10_000,
      );
      expect((await the('b').streams()).some((x) => x.id === id)).toBe(false);
    } finally {
      ws.close();
      await pub.close();
      sub.ws.close();
    }
  }, 60_000);

  it('kill -9 of a node: its cameras are analysed elsewhere within the bound, once, with no ffmpeg left behind', async () => {
    const before = await owners(alive());
    const victim = the('a');
    const theirs = cameras.filter((c) => before.get(c)?.[0] === 'a');
    expect(theirs.length).toBeGreaterThan(0);
    const orphans = victim.ffmpegs();
    const killedAt = Date.now();
    await victim.kill9();
    nodes.delete('a');
    const after = await settled('cameras of A taken over');
    const takeoverMs = Date.now() - killedAt;
    console.log(`CLUSTER takeover after kill -9: ${takeoverMs} ms for ${theirs.length} cameras (lease ${LEASE_MS} ms)`);
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    for (const n of alive()) expect(n.ffmpegs().length, n.name).toBe(load(after, n.name));
    // The dead node's decoders end too: their stdout is a broken pipe.
    await waitFor('the dead node`s ffmpeg gone', () => orphans.every((pid) => !isAlive(pid)), 10_000);
  }, 60_000);

  it('a node cut off from the broker stops its cameras before its leases expire; they are taken once; it rejoins', async () => {
    const before = await owners(alive());
    const cut = cameras.filter((c) => before.get(c)?.[0] === 'b');
    expect(cut.length).toBeGreaterThan(0);
    relay.cut();
    try {
      // C takes what it has room for (limits.maxStreams 3): the rest waits, listed as unassigned.
      const deadline = Date.now() + TAKEOVER_BOUND_MS;
      for (;;) {
        const [b, c] = [await the('b').cluster(), await the('c').cluster()];
        if (b?.owned.length === 0 && c?.owned.length === 3 && b.state !== 'connected') break;
        if (Date.now() > deadline) throw new Error(`not taken over: b ${JSON.stringify(b)} c ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await waitFor('B`s ffmpeg gone', () => the('b').ffmpegs().length === 0, 5000);
      const unassigned = async () => (await the('c').streams()).filter((s) => s.state === 'unassigned').length;
      const deadline2 = Date.now() + 5000;
      while ((await unassigned()) !== cameras.length - 3 && Date.now() < deadline2) await sleep(100);
      expect(await unassigned()).toBe(cameras.length - 3);
    } finally {
      relay.restore();
    }
    await settled('B back');
    expect(watcher.report.maxDoubleMs).toBeLessThan(LEASE_MS);
  }, 60_000);

  it('a node that joins gets its share (balancing), and the broker restarted: nodes recover, the registry is intact', async () => {
    await node('a');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const map = await settled('with A again');
      const counts = alive().map((n) => load(map, n.name));
      if (Math.max(...counts) - Math.min(...counts) <= 1) break;
      if (Date.now() > deadline) throw new Error(`not balanced: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const ws = subscribe(the('c').url, '?types=stream.state');
    await ws.opened;
    await broker.kill();
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of alive()) expect((await n.cluster())?.state, n.name).toBe('reconnecting');
    await broker.restart();
    const connected = async () =>
      (await Promise.all(alive().map((n) => n.cluster()))).every((h) => h?.state === 'connected');
    const deadline2 = Date.now() + TAKEOVER_BOUND_MS;
    while (!(await connected()) && Date.now() < deadline2) await sleep(100);
    const recovered = await settled('after the broker restart', 30_000);
    expect([...recovered.keys()].sort()).toEqual([...cameras].sort());
    for (const n of alive()) {
      expect((await n.cluster())?.state).toBe('connected');
      expect((await n.streams()).map((s) => s.id).sort()).toEqual([...cameras].sort());
    }
    expect(ws.messages.some((m) => String(m.reason).includes('cluster broker unreachable'))).toBe(true);
    ws.ws.close();
    await watcher.stop();
    console.log(`CLUSTER ownership watch: ${JSON.stringify(watcher.report)}`);
    expect(watcher.report.maxDoubleMs).toBeLessThan(LEASE_MS);
  }, 120_000);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
