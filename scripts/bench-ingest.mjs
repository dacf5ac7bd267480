#!/usr/bin/env node
// Ingest benchmark: time to first frame for FileSource and RtspSource, and CPU per RTSP stream (the ffmpeg child,
// read from /proc/<pid>/stat, plus this Node process) at 640x480 30 fps for H264 and VP8.
//
//   npm run build && node scripts/bench-ingest.mjs [--seconds 10] [--runs 5]
//
// It starts its own RTSP camera (tests/fixtures/rtsp_server.py under /usr/bin/python3, GStreamer) on a free loopback
// port. Output: one line per measurement, `name key=value ...`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { FileSource } = await import(`${root}dist/media/FileSource.js`);
const { RtspSource } = await import(`${root}dist/media/RtspSource.js`);
const { resolveFfmpegPath, ffmpegInfo } = await import(`${root}dist/media/ffmpegPath.js`);

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SECONDS = opt('seconds', 10);
const RUNS = opt('runs', 5);
const VIDEO = `${root}../shared/data/video/fr_short_hamilton_clip.mp4`;
const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startCamera(port) {
  const child = spawn('/usr/bin/python3', [`${root}tests/fixtures/rtsp_server.py`, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => d.toString().includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`rtsp_server.py exited with ${code}`)));
  });
  return child;
}

function firstFrame(source) {
  return new Promise((resolve) => source.once('frame', resolve));
}

const info = ffmpegInfo(resolveFfmpegPath());
console.log(`ffmpeg path=${info.path} version=${info.version} avformat=${info.avformatMajor}`);

for (const pace of ['consumer', 'realtime']) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const source = new FileSource({ path: VIDEO, pace });
    const t0 = performance.now();
    await source.start();
    times.push(performance.now() - t0);
    await source.close();
  }
  console.log(
    `file_first_frame pace=${pace} runs=${RUNS} median_ms=${median(times).toFixed(0)} min_ms=${Math.min(...times).toFixed(0)} max_ms=${Math.max(...times).toFixed(0)}`,
  );
}

const port = await freePort();
const camera = await startCamera(port);
try {
  for (const codec of ['h264', 'vp8']) {
    const url = `rtsp://127.0.0.1:${port}/${codec}`;
    const times = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const source = new RtspSource({ url });
      const t0 = performance.now();
      const got = firstFrame(source);
      source.start();
      await got;
      times.push(performance.now() - t0);
      await source.close();
    }
    console.log(
      `rtsp_first_frame codec=${codec} runs=${times.length} median_ms=${median(times).toFixed(0)} min_ms=${Math.min(...times).toFixed(0)} max_ms=${Math.max(...times).toFixed(0)}`,
    );

    const source = new RtspSource({ url });
    let frames = 0;
    source.on('frame', () => {
      if (source.takeFrame()) frames++;
    });
    const got = firstFrame(source);
    source.start();
    await got;
    await sleep(1000); // settle
    const pid = source.pid;
    const f0 = frames;
    const c0 = cpuMsOf(pid);
    const n0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const wall = (performance.now() - t0) / 1000;
    const ffmpegMs = cpuMsOf(pid) - c0;
    const n1 = process.cpuUsage(n0);
    const nodeMs = (n1.user + n1.system) / 1000;
    const n = frames - f0;
    console.log(
      `rtsp_cpu codec=${codec} size=640x480 seconds=${wall.toFixed(1)} fps=${(n / wall).toFixed(1)} ` +
        `ffmpeg_cpu_ms_per_s=${(ffmpegMs / wall).toFixed(1)} ffmpeg_cpu_ms_per_frame=${(ffmpegMs / n).toFixed(2)} ` +
        `node_cpu_ms_per_s=${(nodeMs / wall).toFixed(1)} dropped=${source.stats.dropped}`,
    );
    await source.close();
  }
} finally {
  camera.kill('SIGTERM');
}
