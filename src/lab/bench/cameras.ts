import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolveFfmpegPath } from '../../media/ffmpegPath.js';

/** rtsp_cameras.py beside this file (from src/) or in src/ (from dist/). */
function script(): string {
  for (const rel of ['./rtsp_cameras.py', '../../../src/lab/bench/rtsp_cameras.py']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('rtsp_cameras.py not found');
}

/**
 * A camera-like H264 file from any video: 640x480 (letterboxed), 30 fps, a keyframe a second, no B-frames (as IP
 * cameras send), looped to `seconds`.
 */
export function cameraVideo(input: string, out: string, seconds: number): string {
  const vf = 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,fps=30';
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '-1', '-i', input, '-t', String(seconds)];
  const enc = ['-vf', vf, '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '30', out];
  const r = spawnSync(resolveFfmpegPath(), [...args, ...enc], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not prepare ${input}: ${r.stderr}`);
  return out;
}

export interface CameraServer {
  url(name: string): string;
  pid: number;
  stop(): Promise<void>;
}

/** GStreamer's RTSP server on a free loopback port, one mount per file (`name` → `rtsp://127.0.0.1:PORT/name`). */
export async function startCameras(files: Record<string, string>): Promise<CameraServer> {
  const port = await freePort();
  const specs = Object.entries(files).map(([name, path]) => `${name}=${path}`);
  const child: ChildProcess = spawn('/usr/bin/python3', [script(), String(port), ...specs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtsp_cameras.py did not start: ${stderr}`)), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (!d.toString().includes('READY')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtsp_cameras.py exited with ${code}: ${stderr}`));
    });
  });
  return {
    url: (name) => `rtsp://127.0.0.1:${port}/${name}`,
    pid: child.pid as number,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** CPU seconds (user + system) a process has used, from /proc (all its threads). */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return 0; // gone
  }
}

/** The pids of the ffmpeg children of `parent` (default this process: the stream decoders). */
export function ffmpegChildren(parent = process.pid): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.split(') ')[1]?.split(' ')[1]);
      if (ppid === parent && comm.startsWith('ffmpeg')) out.push(Number(entry));
    } catch {
      // gone between readdir and read
    }
  }
  return out;
}
