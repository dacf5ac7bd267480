import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import WebSocket from 'ws';
import { configSchema, type EngineName } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { FileSource } from '../../media/FileSource.js';
import { Server } from '../../server/Server.js';
import { median } from './bench.js';
import { type CameraServer, cameraVideo, ffmpegChildren, processCpuSeconds, startCameras } from './cameras.js';
import { NaiveFaceApi } from './NaiveFaceApi.js';
import { stillRoomVideo } from './scenes.js';

export interface BenchLiveOptions {
  seconds: number;
  /** Numbers of cameras to try, in order. */
  counts: number[];
  /** The mask head the streams run (null: none). */
  maskModel: string | null;
  engine: EngineName | 'auto';
  /** The batcher's wait for more faces. */
  maxWaitMs: number;
  /** The videos the cameras with faces play (round robin). */
  videos: string[];
  /** The shared data folder (the still room is made from it). */
  dataDir: string;
  out: (line: string) => void;
}

const WARM_UP_MS = 8000;
const FPS = 5;
const CORES = availableParallelism();

interface Run {
  streams: number;
  still: number;
  perStream: number[];
  total: number;
  p50: number;
  p95: number;
  events: number;
  /** Shares of the machine (all cores) over the measured seconds. */
  cpu: { node: number; ffmpeg: number; cameras: number };
  skipped: number;
  /** Of the analyzed frames, the share the detector ran on. */
  detectShare: number;
  stages: Record<string, number>;
  held: boolean;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

async function scrape(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const perStream = (name: string) => {
    const out = new Map<string, number>();
    for (const m of text.matchAll(new RegExp(`^${name}\\{stream="([^"]+)"[^}]*\\} ([\\d.e+]+)`, 'gm'))) {
      out.set(m[1] as string, Number(m[2]));
    }
    return out;
  };
  const stages: Record<string, number> = {};
  for (const m of text.matchAll(/^emostream_stage_seconds_total\{stage="([^"]+)"\} ([\d.e+-]+)/gm)) {
    stages[m[1] as string] = Number(m[2]);
  }
  return {
    analyzed: perStream('emostream_frames_analyzed_total'),
    skipped: perStream('emostream_frames_skipped_no_motion_total'),
    detections: perStream('emostream_detections_total'),
    stages,
  };
}

function cpuNow(cameras: CameraServer) {
  const usage = process.cpuUsage();
  return {
    node: (usage.user + usage.system) / 1e6,
    ffmpeg: ffmpegChildren().map((pid) => ({ pid, s: processCpuSeconds(pid) })),
    cameras: processCpuSeconds(cameras.pid),
  };
}

/** N cameras (the last `still` of them showing the still room) through one in-process server for `seconds`. */
async function runCameras(
  n: number,
  still: number,
  seconds: number,
  cameras: CameraServer,
  faces: string[],
  options: BenchLiveOptions,
) {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-state-'));
  const config = configSchema.parse({
    server: { port: 0, stateFile: join(dir, 'state.json') },
    events: { maxUpdatesPerSecond: 60 },
    analysis: { maxWaitMs: options.maxWaitMs },
    limits: { maxStreams: 64 },
    models: { mask: options.maskModel, engine: options.engine },
  });
  const server = await Server.start(config, createLogger({ level: 'warn' }));
  const latencies: number[] = [];
  let measuring = false;
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/events?types=face.update,face.new`);
  ws.on('message', (data) => {
    if (measuring) latencies.push(Date.now() - (JSON.parse(data.toString()) as { ts: number }).ts);
  });
  try {
    for (let i = 0; i < n; i++) {
      const url = i >= n - still ? cameras.url('room') : cameras.url(faces[i % faces.length] as string);
      const res = await fetch(`${server.url}/api/streams`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `cam${i}`, url }),
      });
      if (res.status !== 201) throw new Error(`camera ${i} refused: ${await res.text()}`);
    }
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const before = await scrape(server.url);
    const cpu0 = cpuNow(cameras);
    measuring = true;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const wall = (Date.now() - t0) / 1000;
    const cpu1 = cpuNow(cameras);
    const after = await scrape(server.url);
    const perStream = [...after.analyzed].map(([id, v]) => (v - (before.analyzed.get(id) ?? 0)) / wall);
    const skipped = [...after.skipped].reduce((s, [id, v]) => s + v - (before.skipped.get(id) ?? 0), 0);
    const detections = [...after.detections].reduce((s, [id, v]) => s + v - (before.detections.get(id) ?? 0), 0);
    const ffmpeg = cpu1.ffmpeg.reduce((s, c) => s + c.s - (cpu0.ffmpeg.find((b) => b.pid === c.pid)?.s ?? 0), 0);
    const share = (cpuSeconds: number) => cpuSeconds / (wall * CORES);
    const stages: Record<string, number> = {};
    for (const [k, v] of Object.entries(after.stages)) stages[k] = (v - (before.stages[k] ?? 0)) * 1000;
    const active = perStream.slice(0, n - still);
    const total = perStream.reduce((a, b) => a + b, 0);
    const p95 = percentile(latencies, 95);
    return {
      streams: n,
      still,
      perStream,
      total,
      p50: percentile(latencies, 50),
      p95,
      events: latencies.length,
      cpu: { node: share(cpu1.node - cpu0.node), ffmpeg: share(ffmpeg), cameras: share(cpu1.cameras - cpu0.cameras) },
      skipped: skipped / wall,
      detectShare: detections / Math.max(1, total * wall),
      stages,
      held: (active.length === 0 || Math.min(...active) >= 0.9 * FPS) && !(p95 > 250),
    } satisfies Run;
  } finally {
    ws.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The naive way on the same frames: face-api's detectAllFaces().withFaceExpressions(), one thread. */
async function runNaive(video: string, seconds: number, detector: 'ssd' | 'tiny') {
  const naive = await NaiveFaceApi.create(detector);
  const source = new FileSource({ path: video, pace: 'consumer', fps: FPS, loop: true });
  let frames = 0;
  const deadline = Date.now() + seconds * 1000;
  const t0 = Date.now();
  for await (const frame of source.frames()) {
    await naive.analyze(frame);
    frames++;
    if (Date.now() > deadline) break;
  }
  await source.close();
  return frames / ((Date.now() - t0) / 1000);
}

function runLine(r: Run): string {
  const active = r.perStream.slice(0, r.streams - r.still);
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
  return (
    `streams=${r.streams} still=${r.still} analyzed_fps_total=${r.total.toFixed(1)} ` +
    `min_active_fps=${active.length ? Math.min(...active).toFixed(2) : '-'} skipped_fps=${r.skipped.toFixed(1)} ` +
    `detect_share=${r.detectShare.toFixed(2)} ` +
    `p50_ms=${Math.round(r.p50)} p95_ms=${Math.round(r.p95)} events=${r.events} ` +
    `cpu_node=${pct(r.cpu.node)} cpu_ffmpeg=${pct(r.cpu.ffmpeg)} cpu_cameras=${pct(r.cpu.cameras)} held=${r.held ? 'yes' : 'no'}`
  );
}

/** Where the machine went, per analyzed frame: ffmpeg, each stage, and the rest of Node (scheduling, I/O, GC). */
function costLines(r: Run, seconds: number): string[] {
  const frames = r.total * seconds;
  const machineMs = seconds * 1000 * CORES;
  const rows: [string, number][] = [
    ['decode (ffmpeg, all streams)', r.cpu.ffmpeg * machineMs],
    ...Object.entries(r.stages).sort((a, b) => b[1] - a[1]),
  ];
  const staged = Object.values(r.stages).reduce((a, b) => a + b, 0);
  rows.push(['other Node (scheduling, I/O, GC, HTTP)', Math.max(0, r.cpu.node * machineMs - staged)]);
  rows.push(['camera server (load generator)', r.cpu.cameras * machineMs]);
  return [
    `cost per analyzed frame at streams=${r.streams} still=${r.still} (${frames.toFixed(0)} frames in ${seconds} s):`,
    ...rows.map(
      ([stage, ms]) =>
        `  ${stage.padEnd(40)} ${(ms / Math.max(1, frames)).toFixed(2).padStart(7)} ms/frame ${((ms / machineMs) * 100).toFixed(1).padStart(5)}% of the machine`,
    ),
  ];
}

/**
 * `npm run bench:live`: real RTSP cameras (GStreamer on loopback) playing the videos at 640x480, analyzed at 5 fps
 * each through one in-process server: for each number of cameras, with faces on all of them and with half showing a
 * still room, the analyzed rate, the p50/p95 frame-to-event latency and where the CPU goes; the CPU of an idle camera;
 * and the naive face-api loop in the same run.
 */
export async function benchLive(options: BenchLiveOptions): Promise<void> {
  const { out, seconds } = options;
  const dir = mkdtempSync(join(tmpdir(), 'emostream-bench-'));
  const length = WARM_UP_MS / 1000 + seconds + 20;
  const files: Record<string, string> = {};
  options.videos.forEach((video, i) => {
    files[`faces${i}`] = cameraVideo(video, join(dir, `${i}-${basename(video, extname(video))}.mp4`), length);
  });
  const room = stillRoomVideo(options.dataDir, join(dir, 'room-still.mp4'), 4);
  files.room = cameraVideo(room, join(dir, 'room.mp4'), length);
  const faces = Object.keys(files).filter((k) => k !== 'room');
  const cameras = await startCameras(files);
  out(
    `cameras: RTSP (GStreamer, loopback) playing ${options.videos.map((v) => basename(v)).join(', ')} and a still room, ` +
      `640x480 H264 30 fps; analyzed at ${FPS} fps each; engine ${options.engine}; batcher wait ${options.maxWaitMs} ms; mask model: ${options.maskModel ?? 'none'}; ${CORES} cores; ` +
      `held = every camera with faces at >= ${0.9 * FPS} fps and p95 frame-to-event <= 250 ms`,
  );
  try {
    const best: Record<string, Run | undefined> = {};
    let saturated: Run | undefined;
    for (const [label, stillShare] of [
      ['faces on every camera', 0],
      ['half the cameras on a still room', 0.5],
    ] as const) {
      out(`# ${label}`);
      let misses = 0;
      for (const n of options.counts) {
        const r = await runCameras(n, Math.floor(n * stillShare), seconds, cameras, faces, options);
        out(runLine(r));
        if (!saturated || r.total > saturated.total) saturated = r;
        if (r.held) best[label] = r;
        else if (++misses >= 2) break;
      }
      const held = best[label];
      out(`max_cameras_held (${label})=${held?.streams ?? 0}`);
      if (held) for (const line of costLines(held, seconds)) out(line);
    }
    const idle = await runCameras(8, 8, seconds, cameras, faces, options);
    const idlePerCamera = ((idle.cpu.node + idle.cpu.ffmpeg) * CORES * 100) / idle.streams;
    out(runLine(idle));
    out(`cpu_per_idle_camera=${idlePerCamera.toFixed(1)}% of a core (Node + ffmpeg; the still room, no faces)`);
    const naiveVideo = join(dir, `${faces[0]}.naive.mp4`);
    cameraVideo(options.videos[0] as string, naiveVideo, 20);
    const naiveSsd = await runNaive(naiveVideo, seconds, 'ssd');
    const naiveTiny = await runNaive(naiveVideo, seconds, 'tiny');
    out(
      `naive face-api detectAllFaces().withFaceExpressions(), one thread: ssd ${naiveSsd.toFixed(2)} fps, tiny ${naiveTiny.toFixed(2)} fps`,
    );
    const top = saturated?.total ?? 0;
    out(
      `saturated_fps=${top.toFixed(1)} (streams=${saturated?.streams}) vs_naive_ssd=${(top / naiveSsd).toFixed(1)}x ` +
        `vs_naive_tiny=${(top / naiveTiny).toFixed(1)}x; median stream fps there ${median(saturated?.perStream ?? [0]).toFixed(2)}`,
    );
  } finally {
    await cameras.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
