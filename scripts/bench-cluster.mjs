#!/usr/bin/env node
// Cluster benchmark (docs/scaling.md): `--nodes` real `emostream serve --cluster` processes on one nats-server with
// JetStream, `--cameras` RTSP cameras (GStreamer on loopback, the shared video with faces at 640x480) registered
// through one node, default lease settings unless given. Prints, per node and per camera: analysed fps, events/s,
// NATS messages and bytes per second, CPU of the node and its ffmpegs; then kills -9 the node with the most cameras
// and measures how long until each of its cameras is live on another node, then stops one node with SIGTERM and
// measures the handover.
//
//   npm run build && node scripts/bench-cluster.mjs [--nodes 3] [--cameras 6] [--seconds 30]
//                                                    [--lease-ms 15000] [--renew-ms 5000]
//
// `--nodes 1 --cameras 16` measures one node of a cluster at load (no takeover then).
// Output: one line per measurement, `name key=value ...`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { cameraVideo, ffmpegChildren, freePort, processCpuSeconds, startCameras } = await import(
  `${root}dist/lab/bench/cameras.js`
);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const NODES = opt('nodes', 3);
const CAMERAS = opt('cameras', 6);
const SECONDS = opt('seconds', 30);
const LEASE_MS = opt('lease-ms', 15_000);
const RENEW_MS = opt('renew-ms', 5000);
/** Inference workers per node: one when several nodes share this machine, else one per core (0). */
const WORKERS = opt('workers', NODES > 1 ? 1 : 0);
const VIDEO = `${root}../shared/data/video/fr_short_hamilton_clip.mp4`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const line = (name, fields) =>
  console.log(
    `${name} ${Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
      .join(' ')}`,
  );

const canConnect = (port) =>
  new Promise((r) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });

const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-cluster-'));
const cleanups = [];
process.on('exit', () => {
  for (const c of cleanups) {
    try {
      c();
    } catch {} // gone already
  }
  rmSync(dir, { recursive: true, force: true });
});

// The broker: nats-server with JetStream, its store in our folder.
const natsPort = await freePort();
writeFileSync(
  join(dir, 'nats.conf'),
  `listen: "127.0.0.1:${natsPort}"\njetstream { store_dir: "${join(dir, 'js')}" }\n`,
);
const nats = spawn('/usr/sbin/nats-server', ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
cleanups.push(() => nats.kill('SIGKILL'));
while (!(await canConnect(natsPort))) await sleep(50);

// The cameras.
const video = cameraVideo(VIDEO, join(dir, 'faces.mp4'), 60);
const files = Object.fromEntries(Array.from({ length: CAMERAS }, (_, i) => [`cam${i}`, video]));
const cameraServer = await startCameras(files);
cleanups.push(() => process.kill(cameraServer.pid, 'SIGKILL'));

async function startNode(name) {
  const port = await freePort();
  const config = {
    server: { host: '127.0.0.1', port, stateFile: join(dir, `${name}-state.json`) },
    models: { workers: WORKERS },
    cluster: { url: `nats://127.0.0.1:${natsPort}`, name: 'bench', node: name, leaseMs: LEASE_MS, renewMs: RENEW_MS },
  };
  writeFileSync(join(dir, `${name}.yaml`), JSON.stringify(config));
  const child = spawn(process.execPath, [`${root}dist/cli/main.js`, 'serve', '--config', join(dir, `${name}.yaml`)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  cleanups.push(() => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((r) => child.once('exit', r));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node ${name} exited: ${stderr}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(200);
  }
  const get = async (path) => (await fetch(`${url}${path}`, { signal: AbortSignal.timeout(3000) })).json();
  return { name, url, child, exited, get, health: () => get('/healthz'), streams: () => get('/api/streams') };
}

const nodes = [];
for (let i = 0; i < NODES; i++) nodes.push(await startNode(String.fromCharCode(97 + i)));
line('setup', {
  nodes: NODES,
  workers: WORKERS,
  cameras: CAMERAS,
  leaseMs: LEASE_MS,
  renewMs: RENEW_MS,
  seconds: SECONDS,
});

const ids = [];
for (let i = 0; i < CAMERAS; i++) {
  const res = await fetch(`${nodes[0].url}/api/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `cam ${i}`, url: cameraServer.url(`cam${i}`) }),
  });
  if (res.status !== 201) throw new Error(`camera not added: ${res.status} ${await res.text()}`);
  ids.push((await res.json()).id);
}

/** Polls node `via` until every camera is live; returns camera id → node, and when each went live (ms after `t0`). */
async function allLive(via, t0, notOn = undefined, timeoutMs = 120_000) {
  const liveAt = new Map();
  const owner = new Map();
  while (performance.now() - t0 < timeoutMs) {
    const list = await via.streams().catch(() => []);
    for (const s of list) {
      if (!ids.includes(s.id)) continue;
      if (s.node === notOn) continue;
      if (s.state === 'live' && s.node && (!liveAt.has(s.id) || owner.get(s.id) !== s.node)) {
        liveAt.set(s.id, performance.now() - t0);
        owner.set(s.id, s.node);
      }
      if (s.state !== 'live') liveAt.delete(s.id);
    }
    if (ids.every((id) => liveAt.has(id))) return { liveAt, owner };
    await sleep(100);
  }
  throw new Error(`not every camera went live within ${timeoutMs} ms`);
}

const t0 = performance.now();
const { liveAt: firstLive } = await allLive(nodes[0], t0);
line('placement', { allLiveS: Math.max(...firstLive.values()) / 1000 });
await sleep(8000); // warm-up

// Steady state: counters before and after.
const snap = async () =>
  Promise.all(
    nodes.map(async (n) => ({
      at: performance.now(),
      health: await n.health(),
      cpu: processCpuSeconds(n.child.pid),
      ffmpegCpu: ffmpegChildren(n.child.pid).reduce((s, pid) => s + processCpuSeconds(pid), 0),
    })),
  );
const before = await snap();
await sleep(SECONDS * 1000);
const after = await snap();
const list = await nodes[0].streams();
let totals = { cameras: 0, msgs: 0, bytes: 0, events: 0 };
for (const [i, n] of nodes.entries()) {
  const [b, a] = [before[i], after[i]];
  const s = (a.at - b.at) / 1000;
  const c0 = b.health.cluster;
  const c1 = a.health.cluster;
  const owned = c1.owned.length;
  const fps = list.filter((x) => x.node === n.name && ids.includes(x.id)).map((x) => x.fps);
  const fields = {
    cameras: owned,
    fpsPerCamera: fps.length ? fps.reduce((x, y) => x + y, 0) / fps.length : 0,
    eventsOutPerS: (c1.events.out - c0.events.out) / s,
    eventsInPerS: (c1.events.in - c0.events.in) / s,
    natsMsgsOutPerS: (c1.messages.out - c0.messages.out) / s,
    natsBytesOutPerS: (c1.bytes.out - c0.bytes.out) / s,
    natsMsgsInPerS: (c1.messages.in - c0.messages.in) / s,
    natsBytesInPerS: (c1.bytes.in - c0.bytes.in) / s,
    nodeCpuPct: ((a.cpu - b.cpu) / s) * 100,
    ffmpegCpuPct: ((a.ffmpegCpu - b.ffmpegCpu) / s) * 100,
  };
  line(`node ${n.name}`, fields);
  totals = {
    cameras: totals.cameras + owned,
    msgs: totals.msgs + fields.natsMsgsOutPerS,
    bytes: totals.bytes + fields.natsBytesOutPerS,
    events: totals.events + fields.eventsOutPerS,
  };
}
line('per camera', {
  eventsPerS: totals.events / totals.cameras,
  natsMsgsOutPerS: totals.msgs / totals.cameras,
  natsBytesOutPerS: totals.bytes / totals.cameras,
});

// kill -9 the node with the most cameras: time until each of its cameras is live elsewhere.
if (nodes.length < 2) {
  for (const n of nodes) n.child.kill('SIGTERM');
  await Promise.all(nodes.map((n) => n.exited));
  await cameraServer.stop();
  process.exit(0);
}
const counts = new Map(nodes.map((n) => [n.name, list.filter((x) => x.node === n.name).length]));
const victim = [...nodes].sort((x, y) => counts.get(y.name) - counts.get(x.name))[0];
const orphans = list.filter((x) => x.node === victim.name).map((x) => x.id);
const survivor = nodes.find((n) => n !== victim);
const killedAt = performance.now();
victim.child.kill('SIGKILL');
await victim.exited;
nodes.splice(nodes.indexOf(victim), 1);
const takeover = await allLive(survivor, killedAt, victim.name);
const times = orphans.map((id) => takeover.liveAt.get(id) / 1000);
line('kill -9', {
  node: victim.name,
  cameras: orphans.length,
  firstLiveS: Math.min(...times),
  lastLiveS: Math.max(...times),
  boundS: (LEASE_MS + 2 * RENEW_MS) / 1000,
});

// SIGTERM: the leases are given up at once.
if (nodes.length >= 2) {
  const list2 = await survivor.streams();
  const leaving = nodes.find((n) => n !== survivor) ?? nodes[0];
  const handed = list2.filter((x) => x.node === leaving.name).map((x) => x.id);
  const stoppedAt = performance.now();
  leaving.child.kill('SIGTERM');
  const code = await leaving.exited;
  const stay = nodes.find((n) => n !== leaving);
  const handover = await allLive(stay, stoppedAt, leaving.name);
  const t = handed.map((id) => handover.liveAt.get(id) / 1000);
  line('SIGTERM', {
    node: leaving.name,
    exit: code,
    cameras: handed.length,
    firstLiveS: t.length ? Math.min(...t) : 0,
    lastLiveS: t.length ? Math.max(...t) : 0,
  });
}

for (const n of nodes) n.child.kill('SIGTERM');
await Promise.all(nodes.map((n) => n.exited));
await cameraServer.stop();
nats.kill('SIGTERM');
process.exit(0);
