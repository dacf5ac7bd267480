import { describe, expect, it } from 'vitest';
import { buildDecoderArgs } from '../../../src/media/FfmpegDecoder.js';
import { ffmpegInfo, parseFfmpegVersion, resolveFfmpegPath } from '../../../src/media/ffmpegPath.js';
import { rtspInputArgs } from '../../../src/media/RtspSource.js';
import { rtspSecretInput, withTcpOption } from '../../../src/media/rtspInput.js';

function argAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

describe('buildDecoderArgs', () => {
  it('decodes with the docs/field-notes.md flags to raw RGB on stdout', () => {
    const args = buildDecoderArgs({ inputArgs: ['-i', 'in.mp4'] });
    expect(argAfter(args, '-vsync')).toBe('passthrough');
    expect(argAfter(args, '-threads')).toBe('1');
    expect(argAfter(args, '-flags')).toBe('low_delay');
    expect(argAfter(args, '-f')).toBe('rawvideo');
    expect(argAfter(args, '-pix_fmt')).toBe('rgb24');
    expect(args.at(-1)).toBe('pipe:1');
    expect(args).not.toContain('nobuffer');
    expect(args.join(' ')).not.toContain('nobuffer');
    // decoder options come before the input
    expect(args.indexOf('-threads')).toBeLessThan(args.indexOf('-i'));
    expect(args.indexOf('-flags')).toBeLessThan(args.indexOf('-i'));
    expect(args).toContain('-nostdin');
    // width only: height from the display aspect, even
    expect(argAfter(args, '-vf')).toBe('scale=640:trunc(ow/dar/2)*2,setsar=1');
  });

  it('fits and pads to an explicit size, samples with fps, stamps pts with showinfo', () => {
    const args = buildDecoderArgs({ inputArgs: ['-i', 'x'], width: 320, height: 240, fps: 5, pts: true });
    expect(argAfter(args, '-vf')).toBe(
      'fps=5,scale=320:240:force_original_aspect_ratio=decrease,pad=320:240:(ow-iw)/2:(oh-ih)/2,setsar=1,showinfo',
    );
  });

  it('keeps stdin open for piped input', () => {
    const args = buildDecoderArgs({ inputArgs: ['-f', 'ivf', '-i', 'pipe:0'], stdin: true });
    expect(args).not.toContain('-nostdin');
    expect(argAfter(args, '-i')).toBe('pipe:0');
  });

  it('rejects odd or invalid sizes and rates', () => {
    expect(() => buildDecoderArgs({ inputArgs: [], width: 641 })).toThrow(RangeError);
    expect(() => buildDecoderArgs({ inputArgs: [], width: 640, height: 481 })).toThrow(RangeError);
    expect(() => buildDecoderArgs({ inputArgs: [], fps: 0 })).toThrow(RangeError);
  });
});

describe('rtspInputArgs', () => {
  it('uses TCP and the socket timeout in microseconds with the flag of the ffmpeg flavour', () => {
    expect(rtspInputArgs('rtsp://h/s', '-stimeout', 5000, false)).toEqual([
      '-rtsp_transport',
      'tcp',
      '-stimeout',
      '5000000',
      '-i',
      'rtsp://h/s',
    ]);
    const fast = rtspInputArgs('rtsp://h/s', '-stimeout', 5000);
    expect(fast.slice(4, 8)).toEqual(['-probesize', '32', '-analyzeduration', '0']);
    expect(fast.at(-1)).toBe('rtsp://h/s');
    expect(rtspInputArgs('rtsp://h/s', '-timeout', 250)[2]).toBe('-timeout');
  });
});

describe('rtspSecretInput (issue 15, finding 4: no credential on the command line)', () => {
  const url = "rtsp://admin:p%40ss%2Fw%3Ard@cam:554/s?token=t0k&x=it's";

  it('names no camera in the arguments and gives the URL with its options through stdin (ffmpeg >= 5)', () => {
    const { args, stdin } = rtspSecretInput(url, 59, 5000);
    expect(args.join(' ')).not.toMatch(/cam|p%40ss|t0k/);
    expect(args).toEqual([
      '-f',
      'concat',
      '-safe',
      '0',
      '-protocol_whitelist',
      'pipe,rtsp,rtsps,tcp,tls,udp,rtp',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-i',
      'pipe:0',
    ]);
    expect(stdin).toBe(
      [
        'ffconcat version 1.0',
        "file 'rtsp://admin:p%40ss%2Fw%3Ard@cam:554/s?token=t0k&x=it'\\''s'",
        'option rtsp_transport tcp',
        'option timeout 5000000',
        'option probesize 32',
        'option analyzeduration 0',
        '',
      ].join('\n'),
    );
  });

  it('asks 4.x for TCP with the URL option, its only way', () => {
    const { stdin } = rtspSecretInput('rtsp://a:b@cam/s', 58, 5000, false);
    expect(stdin).toBe("ffconcat version 1.0\nfile 'rtsp://a:b@cam/s?tcp'\n");
    expect(withTcpOption('rtsp://cam/s?channel=1')).toBe('rtsp://cam/s?channel=1&tcp');
  });
});

describe('ffmpeg flavour', () => {
  it('reads the flavour from libavformat, not from the version string', () => {
    const bundled = parseFfmpegVersion(
      '/x',
      'ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/\nlibavformat    58. 24.100 / 58. 24.100\n',
    );
    expect(bundled).toMatchObject({
      version: 'N-47683-g0e8eb07980-static',
      avformatMajor: 58,
      rtspTimeoutFlag: '-stimeout',
    });
    const debian = parseFfmpegVersion(
      '/y',
      'ffmpeg version 5.1.6-0+deb12u1 Copyright\nlibavformat    59. 27.100 / 59. 27.100',
    );
    expect(debian.rtspTimeoutFlag).toBe('-timeout');
    expect(parseFfmpegVersion('/z', 'ffmpeg version 6.1.1').rtspTimeoutFlag).toBe('-timeout');
  });

  it('finds a runnable ffmpeg and caches its flavour; FFMPEG_PATH must be executable', () => {
    const path = resolveFfmpegPath();
    const info = ffmpegInfo(path);
    expect(info.avformatMajor).toBeGreaterThanOrEqual(58);
    expect(ffmpegInfo(path)).toBe(info);
    const saved = process.env.FFMPEG_PATH;
    try {
      process.env.FFMPEG_PATH = '/nonexistent/ffmpeg';
      expect(() => resolveFfmpegPath()).toThrow(/not an executable/);
      process.env.FFMPEG_PATH = path;
      expect(resolveFfmpegPath()).toBe(path);
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
    }
  });
});
