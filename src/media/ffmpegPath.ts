/**
 * Which ffmpeg binary we run, and which flavour it is.
 *
 * Order: the `FFMPEG_PATH` environment variable, else an `ffmpeg` found on `PATH`, else the static 4.1 build shipped
 * inside `@ffmpeg-installer/ffmpeg`. The flavour matters for RTSP: ffmpeg 4.x names the socket I/O timeout
 * `-stimeout` (its `-timeout` is a *listen* timeout), ffmpeg >= 5 renamed it `-timeout`. The bundled build prints no
 * numeric version (`N-47683-g0e8eb07980-static`), so the flavour is read from the libavformat major version
 * (58 = ffmpeg 4.x, 59 = 5.x, 60 = 6.x, 61 = 7.x) in `ffmpeg -version`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { SourceError } from '../core/errors.js';

export interface FfmpegInfo {
  path: string;
  /** The text after "ffmpeg version " (e.g. `5.1.6-0+deb12u1` or `N-47683-g0e8eb07980-static`). */
  version: string;
  /** libavformat major version, the reliable flavour marker. */
  avformatMajor: number;
  /** The option that sets the RTSP socket I/O timeout (in microseconds). */
  rtspTimeoutFlag: '-stimeout' | '-timeout';
}

let cachedPath: string | undefined;
const infoCache = new Map<string, FfmpegInfo>();

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function bundledFfmpeg(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@ffmpeg-installer/ffmpeg') as { path?: string };
    return mod.path && isExecutable(mod.path) ? mod.path : undefined;
  } catch {
    return undefined;
  }
}

/** The ffmpeg binary to run (cached after the first call unless `FFMPEG_PATH` is set). */
export function resolveFfmpegPath(): string {
  const fromEnv = process.env.FFMPEG_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new SourceError('FFMPEG_NOT_FOUND', `FFMPEG_PATH=${fromEnv} is not an executable file`);
    }
    return fromEnv;
  }
  cachedPath ??= findOnPath('ffmpeg') ?? bundledFfmpeg();
  if (!cachedPath) {
    throw new SourceError(
      'FFMPEG_NOT_FOUND',
      'no ffmpeg found: set FFMPEG_PATH, install ffmpeg on PATH, or install @ffmpeg-installer/ffmpeg',
    );
  }
  return cachedPath;
}

/** Parses the output of `ffmpeg -version`. Exported for tests. */
export function parseFfmpegVersion(path: string, text: string): FfmpegInfo {
  const version = /ffmpeg version (\S+)/.exec(text)?.[1] ?? 'unknown';
  let avformatMajor = Number(/libavformat\s+(\d+)\./.exec(text)?.[1] ?? Number.NaN);
  if (Number.isNaN(avformatMajor)) {
    // No library line: fall back to a numeric release (4.x -> 58, 5.x -> 59, ...).
    const release = Number(/^(\d+)\./.exec(version)?.[1] ?? Number.NaN);
    avformatMajor = Number.isNaN(release) ? 58 : release + 54;
  }
  return { path, version, avformatMajor, rtspTimeoutFlag: avformatMajor >= 59 ? '-timeout' : '-stimeout' };
}

/** Version and flavour of an ffmpeg binary (default: `resolveFfmpegPath()`), cached per path. */
export function ffmpegInfo(path: string = resolveFfmpegPath()): FfmpegInfo {
  const cached = infoCache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = execFileSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  } catch (err) {
    throw new SourceError('FFMPEG_NOT_FOUND', `cannot run ${path} -version`, { cause: err });
  }
  const info = parseFfmpegVersion(path, text);
  infoCache.set(path, info);
  return info;
}
