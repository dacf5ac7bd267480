/**
 * The ffmpeg command line of an `FfmpegDecoder` and the classification of a failed run (see FfmpegDecoder.ts for
 * the flags and why).
 */
import { type ErrorCode, SourceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { type ChildExit, describeExit } from './ChildProcessHandle.js';

export interface FfmpegDecoderOptions {
  /** Input options and the input itself, e.g. `['-rtsp_transport', 'tcp', '-i', url]` or `['-f','ivf','-i','pipe:0']`. */
  inputArgs: readonly string[];
  /** Bytes are written to ffmpeg's stdin with `write()`. */
  stdin?: boolean;
  /** Output width (default 640); even. */
  width?: number;
  /** Output height; when set the output is exactly width x height (fit + pad). Even. */
  height?: number;
  /** Sample the video at this many frames per second of video time. */
  fps?: number;
  /**
   * Live sources: pass at most this many frames per second, dropping the others inside ffmpeg before they are
   * scaled, converted to RGB and piped (never duplicating, unlike `fps`). The analysis rate.
   */
  maxFps?: number;
  /** Stamp frames with their presentation time (adds a showinfo filter). */
  pts?: boolean;
  /** When `start()` resolves: at spawn (default with stdin) or at the first frame (default otherwise). */
  readyOn?: 'spawn' | 'frame';
  /** Default 15000 ms. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Strings never to reveal (passwords in the input URL). */
  secrets?: readonly string[];
  ffmpegPath?: string;
  logger?: Logger;
}

/** The full ffmpeg argument list for these options (exported for tests). */
export function buildDecoderArgs(opts: FfmpegDecoderOptions): string[] {
  const width = opts.width ?? 640;
  checkEven('width', width);
  if (opts.height !== undefined) checkEven('height', opts.height);
  if (opts.fps !== undefined && !(opts.fps > 0)) throw new RangeError(`fps must be > 0 (got ${opts.fps})`);
  if (opts.maxFps !== undefined && !(opts.maxFps > 0)) throw new RangeError(`maxFps must be > 0 (got ${opts.maxFps})`);
  const filters: string[] = [];
  if (opts.fps !== undefined) filters.push(`fps=${opts.fps}`);
  // A frame passes when it is (almost) a period after the last one passed: 0.9 of the period, so a 30 fps camera
  // sampled at 5 fps passes every 6th frame despite timestamp jitter.
  if (opts.maxFps !== undefined) {
    filters.push(`select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${(0.9 / opts.maxFps).toFixed(4)})'`);
  }
  if (opts.height !== undefined) {
    const h = opts.height;
    filters.push(`scale=${width}:${h}:force_original_aspect_ratio=decrease`, `pad=${width}:${h}:(ow-iw)/2:(oh-ih)/2`);
  } else {
    filters.push(`scale=${width}:trunc(ow/dar/2)*2`);
  }
  filters.push('setsar=1');
  if (opts.pts) filters.push('showinfo');
  return [
    '-hide_banner',
    '-nostats',
    ...(opts.stdin ? [] : ['-nostdin']),
    '-loglevel',
    'info',
    '-threads',
    '1',
    '-flags',
    'low_delay',
    ...opts.inputArgs,
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filters.join(','),
    '-vsync',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

function checkEven(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0 || v % 2 !== 0) throw new RangeError(`${name} must be a positive even integer`);
}

/** The `SourceError` for a failed ffmpeg run, classified from its stderr tail. */
export function decoderExitError(info: ChildExit, what = 'ffmpeg'): SourceError {
  // The last lines that say something: not the stream dump or the final size summary.
  const tail = info.stderrTail.filter(
    (l) => !/^\s*(Metadata|Stream|Duration|Input #|Output #|video:|frame=)|^\s+\w+\s*:/.test(l),
  );
  const last = tail.slice(-2).join(' | ');
  const text = info.stderrTail.join('\n');
  let code: ErrorCode = 'SOURCE_DECODE_FAILED';
  if (/No such file or directory/i.test(text)) code = 'SOURCE_NOT_FOUND';
  else if (/Connection refused|Connection timed out|timed out|Network is unreachable|No route to host/i.test(text))
    code = 'SOURCE_UNREACHABLE';
  else if (/401 Unauthorized|403 Forbidden/i.test(text)) code = 'SOURCE_UNAUTHORIZED';
  else if (/404 Not Found/i.test(text)) code = 'SOURCE_NOT_FOUND';
  return new SourceError(code, `${what} ${describeExit(info)}${last ? `: ${last}` : ''}`);
}
