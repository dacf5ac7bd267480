#!/usr/bin/env node
// WebRTC ingest benchmark: a real headless Chromium publishes a 640x480 30 fps canvas stream (the shared clip with
// Date.now() drawn into it as black/white blocks) to our SignalingServer + WebRtcSource, imported from dist/
// (`npm run build` first). Measures, per codec:
//   - time to first frame (page's WebSocket open -> first RGB frame in Node; also offer received -> first frame),
//   - capture-to-frame latency p50/p95 (stamp drawn in the page -> decoded RGB frame in Node; same machine clock),
//   - CPU per stream: the ffmpeg child (from /proc/<pid>/stat) and this Node process (process.cpuUsage: werift,
//     SRTP, frame assembly, and the little stamp reading of this script), as % of one core,
//   - decoded frame rate.
// Usage: node scripts/bench-webrtc.mjs [--seconds 20] [--sessions 5] [--codecs vp8,h264]
// Last stdout line: machine-readable summary.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    sessions: { type: 'string', default: '5' },
    codecs: { type: 'string', default: 'vp8,h264' },
  },
});
const SECONDS = Number(args.seconds);
const SESSIONS = Number(args.sessions);
const CODECS = args.codecs.split(',');

const { WebRtcSource } = await import(join(root, 'dist/media/WebRtcSource.js'));
const { signalSessionOf } = await import(join(root, 'dist/server/webrtcSession.js'));
const { SignalingServer } = await import(join(root, 'dist/signaling/SignalingServer.js'));
const { resolveFfmpegPath, ffmpegInfo } = await import(join(root, 'dist/media/ffmpegPath.js'));
const { chromium } = await import('playwright-core');

const VIDEO = join(root, '../shared/data/video/fr_short_hamilton_clip.mp4');
const PAGE = readFileSync(join(root, 'tests/fixtures/webrtc/publish.html'));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** CPU seconds (user + system) of a process from /proc. */
function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

/** Reads the page's stamp: 32 blocks of 20x20 (bits, MSB first) in row 0, the inverted bits in row 1. */
function readStamp(frame) {
  const { data, width } = frame;
  const luma = (bx, row) => {
    let sum = 0;
    for (let y = row * 20 + 5; y < row * 20 + 15; y++) {
      for (let x = bx * 20 + 5; x < bx * 20 + 15; x++) {
        const i = (y * width + x) * 3;
        sum += data[i] + data[i + 1] + data[i + 2];
      }
    }
    return sum / 300;
  };
  let value = 0;
  for (let b = 0; b < 32; b++) {
    const bit = luma(b, 0) > 128;
    if (bit === luma(b, 1) > 128) return undefined; // the check row disagrees: unreadable
    value = value * 2 + (bit ? 1 : 0);
  }
  return value;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-webrtc-'));
  const y4m = join(dir, 'camera.y4m');
  execFileSync(resolveFfmpegPath(), [
    ...['-hide_banner', '-loglevel', 'error', '-ss', '2', '-i', VIDEO, '-t', '6', '-an'],
    ...['-pix_fmt', 'yuv420p', '-r', '30', '-f', 'yuv4mpegpipe', '-y', y4m],
  ]);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/publish.html')) res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else res.writeHead(404).end();
  });
  let next;
  let n = 0;
  const signaling = new SignalingServer({
    createSession: async (req) => {
      const source = await WebRtcSource.create({ id: `bench-${++n}`, offerSdp: req.sdp });
      next?.(source);
      return signalSessionOf(source);
    },
  });
  signaling.attach(server);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      ...['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
      ...['--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream'],
      ...['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
    ],
  });
  const info = ffmpegInfo();
  console.log(`ffmpeg: ${info.path} (${info.version}); chromium: ${browser.version()}; ${SECONDS} s per codec`);
  const results = {};
  try {
    for (const codec of CODECS) {
      const ttff = [];
      const offerToFrame = [];
      const iceMs = [];
      let main;
      for (let s = 0; s < SESSIONS; s++) {
        const page = await browser.newPage();
        const created = new Promise((r) => (next = r));
        await page.goto(`${url}/publish.html?codec=${codec}&stamp=1&w=640&h=480`);
        const source = await created;
        const deadline = Date.now() + 15_000;
        while (source.state !== 'live' && Date.now() < deadline) await sleep(5);
        if (source.state !== 'live') throw new Error(`${codec}: no frame within 15 s`);
        const pub = await page.evaluate(() => window.__pub);
        const st = source.stats;
        ttff.push(st.firstFrameAt - pub.wsOpenAt);
        offerToFrame.push(st.firstFrameAt - st.createdAt);
        iceMs.push(st.connectedAt - st.createdAt);
        if (s < SESSIONS - 1) {
          await page.evaluate(() => window.closeSocket());
          while (!source.closed) await sleep(5);
          await page.close();
        } else {
          main = { page, source };
        }
      }
      const { page, source } = main;
      await sleep(2000); // let Chromium's encoder settle at its bitrate
      const latencies = [];
      let frames = 0;
      let unreadable = 0;
      let size = '';
      const onFrame = () => {
        const f = source.takeFrame();
        if (!f) return;
        const now = Date.now();
        frames++;
        size = `${f.width}x${f.height}`;
        const low = readStamp(f);
        if (low === undefined) {
          unreadable++;
          return;
        }
        const age = ((((now % 2 ** 32) - low) % 2 ** 32) + 2 ** 32) % 2 ** 32;
        latencies.push(age);
      };
      const pid = source.stats.ffmpegPid;
      const ff0 = procCpuSeconds(pid);
      const node0 = process.cpuUsage();
      const t0 = performance.now();
      source.on('frame', onFrame);
      await sleep(SECONDS * 1000);
      source.off('frame', onFrame);
      const wall = (performance.now() - t0) / 1000;
      const ffCpu = (procCpuSeconds(pid) - ff0) / wall;
      const nodeUse = process.cpuUsage(node0);
      const nodeCpu = (nodeUse.user + nodeUse.system) / 1e6 / wall;
      const send = await page.evaluate(() => window.sendStats());
      const r = {
        size,
        sent: `${send.frameWidth}x${send.frameHeight}`,
        fps: +(frames / wall).toFixed(1),
        latencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), max: pct(latencies, 100), n: latencies.length },
        unreadable,
        timeToFirstFrameMs: { p50: pct(ttff, 50), max: pct(ttff, 100), all: ttff },
        offerToFirstFrameMs: { p50: pct(offerToFrame, 50), max: pct(offerToFrame, 100) },
        iceConnectedMs: { p50: pct(iceMs, 50), max: pct(iceMs, 100) },
        cpuPctOfOneCore: { ffmpeg: +(ffCpu * 100).toFixed(1), node: +(nodeCpu * 100).toFixed(1) },
        ffmpegMsPerFrame: +((ffCpu * wall * 1000) / Math.max(1, frames)).toFixed(2),
        bitrateKbps: Math.round((send.targetBitrate ?? 0) / 1000),
        encoder: send.encoder,
        pliSent: source.stats.pliSent,
        gaps: source.stats.assembler?.gaps,
      };
      results[codec] = r;
      console.log(`${codec}: ${JSON.stringify(r)}`);
      await page.evaluate(() => window.closeSocket());
      while (!source.closed) await sleep(5);
      await page.close();
    }
  } finally {
    await browser.close();
    await signaling.close();
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const summary = CODECS.map((c) => {
    const r = results[c];
    return `${c}_latency_p50=${r.latencyMs.p50} ${c}_latency_p95=${r.latencyMs.p95} ${c}_ttff_ms=${r.timeToFirstFrameMs.p50} ${c}_cpu_ffmpeg=${r.cpuPctOfOneCore.ffmpeg} ${c}_cpu_node=${r.cpuPctOfOneCore.node} ${c}_fps=${r.fps}`;
  });
  console.log(summary.join(' '));
}

await main();
