/**
 * The ffmpeg input of an RTSP camera, in two forms.
 *
 * A URL without secrets is given on the command line: `-rtsp_transport tcp`, the socket timeout (`-stimeout` on
 * 4.x, `-timeout` on >= 5), fast probing, `-i URL`.
 *
 * A URL with a password or a secret query value must not be: any local user reads a process's arguments (`ps`,
 * /proc/PID/cmdline). ffmpeg has no option that takes RTSP credentials from elsewhere, so the URL goes through the
 * concat demuxer, whose one-entry list ffmpeg reads from its stdin (`-f concat -safe 0 -i pipe:0`); the command
 * line then names no camera at all. The RTSP options travel with the entry: ffmpeg >= 5 takes them as `option`
 * lines; the 4.x concat demuxer has no `option` directive, so there TCP is asked for with the URL's own `?tcp`
 * option (which ffmpeg strips before talking to the camera), and the socket timeout and fast probing are not
 * available (the source's stall watchdog still bounds a silent camera; the first frame comes about 1 s later:
 * docs/ingest.md). Measured with `ps` against an authenticated camera in tests/integration/secrets.test.ts.
 */

/** ffmpeg's options for the RTSP socket and probing, without the input. */
function rtspOptions(timeoutFlag: '-stimeout' | '-timeout', socketTimeoutMs: number, fastProbe: boolean): string[] {
  return [
    '-rtsp_transport',
    'tcp',
    timeoutFlag,
    String(Math.round(socketTimeoutMs * 1000)),
    ...(fastProbe ? ['-probesize', '32', '-analyzeduration', '0'] : []),
  ];
}

/**
 * The ffmpeg input arguments for an RTSP URL on the command line (only for URLs without secrets). `fastProbe`
 * (default) skips ffmpeg's stream analysis (`-probesize 32 -analyzeduration 0`): the codec parameters come from the
 * SDP and the first keyframe, and the first frame arrives in about 0.2 s instead of about 1 s (docs/ingest.md).
 */
export function rtspInputArgs(
  url: string,
  timeoutFlag: '-stimeout' | '-timeout',
  socketTimeoutMs: number,
  fastProbe = true,
): string[] {
  return [...rtspOptions(timeoutFlag, socketTimeoutMs, fastProbe), '-i', url];
}

/** Protocols the concat entry may use (the list itself comes through `pipe`). */
export const CONCAT_PROTOCOLS = 'pipe,rtsp,rtsps,tcp,tls,udp,rtp';

/**
 * The input of a URL that holds secrets: arguments that name no camera, and the concat list to write to ffmpeg's
 * stdin (then close it). `avformatMajor` is the ffmpeg flavour (ffmpegPath.ts): >= 59 takes per-entry options.
 */
export function rtspSecretInput(
  url: string,
  avformatMajor: number,
  socketTimeoutMs: number,
  fastProbe = true,
): { args: string[]; stdin: string } {
  const probe = fastProbe ? ['-probesize', '32', '-analyzeduration', '0'] : [];
  const args = ['-f', 'concat', '-safe', '0', '-protocol_whitelist', CONCAT_PROTOCOLS, ...probe, '-i', 'pipe:0'];
  const lines = ['ffconcat version 1.0'];
  if (avformatMajor >= 59) {
    lines.push(
      `file ${quote(url)}`,
      'option rtsp_transport tcp',
      `option timeout ${Math.round(socketTimeoutMs * 1000)}`,
    );
    if (fastProbe) lines.push('option probesize 32', 'option analyzeduration 0');
  } else {
    lines.push(`file ${quote(withTcpOption(url))}`);
  }
  return { args, stdin: `${lines.join('\n')}\n` };
}

/** ffmpeg's RTSP URL option `tcp` (`?tcp`, or `&tcp` after an existing query), understood by every version. */
export function withTcpOption(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}tcp`;
}

/**
 * A concat-list token: single-quoted, a quote inside written as `'\''` (ffmpeg's av_get_token: inside quotes every
 * character is literal; outside, a backslash escapes the next one). The URL has no line breaks (parseCameraUrl).
 */
function quote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
