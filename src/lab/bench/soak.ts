import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { configSchema } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { Server } from '../../server/Server.js';

/**
 * `npm run soak`: N looped real videos analyzed for M minutes in one in-process server; prints heap, RSS and live
 * tensors per worker every `every` seconds, then the growth between the first and the last third of the run.
 */
export async function soak(opts: {
  streams: number;
  minutes: number;
  everyS: number;
  /** The videos the streams play (looped, round robin). */
  videos: string[];
  out: (l: string) => void;
}) {
  const dir = mkdtempSync(join(tmpdir(), 'emostream-soak-'));
  // Copies inside the server's allowed folder (file streams may only come from there).
  const names = opts.videos.map((video, i) => {
    const name = `${i}-${basename(video)}`;
    copyFileSync(video, join(dir, name));
    return name;
  });
  const config = configSchema.parse({
    server: { port: 0, stateFile: join(dir, 'state.json') },
    files: { allowDir: dir },
    limits: { maxStreams: 64 },
  });
  const server = await Server.start(config, createLogger({ level: 'warn' }));
  const samples: { t: number; heap: number; rss: number; tensors: number[] }[] = [];
  try {
    for (let i = 0; i < opts.streams; i++) {
      await fetch(`${server.url}/api/streams`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `soak-${i}`, url: names[i % names.length] }),
      });
    }
    const t0 = Date.now();
    while (Date.now() - t0 < opts.minutes * 60_000) {
      await new Promise((r) => setTimeout(r, opts.everyS * 1000));
      const health = (await (await fetch(`${server.url}/healthz`)).json()) as { tensors: number[] };
      const m = process.memoryUsage();
      const sample = { t: Math.round((Date.now() - t0) / 1000), heap: m.heapUsed, rss: m.rss, tensors: health.tensors };
      samples.push(sample);
      opts.out(
        `t=${sample.t}s heap=${(sample.heap / 1e6).toFixed(1)}MB rss=${(sample.rss / 1e6).toFixed(0)}MB tensors=${sample.tensors.join('/')}`,
      );
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const analyzed = [...metrics.matchAll(/^emostream_frames_analyzed_total\{[^}]*\} (\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    const third = Math.max(1, Math.floor(samples.length / 3));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const first = samples.slice(0, third);
    const last = samples.slice(-third);
    opts.out(
      `streams=${opts.streams} minutes=${opts.minutes} analysed_per_stream=${analyzed.join(',')} ` +
        `heap_growth_mb=${((mean(last.map((s) => s.heap)) - mean(first.map((s) => s.heap))) / 1e6).toFixed(1)} ` +
        `rss_growth_mb=${((mean(last.map((s) => s.rss)) - mean(first.map((s) => s.rss))) / 1e6).toFixed(1)} ` +
        `tensors_first=${first[0]?.tensors.join('/')} tensors_last=${samples.at(-1)?.tensors.join('/')}`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
