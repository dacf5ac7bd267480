import { ProtocolError } from '../core/errors.js';
import type { VideoCodec } from './rtp/codecFrameBuilder.js';

/** What we learn from a browser's offer before handing it to werift (which throws unhelpful errors on bad SDP). */
export interface OfferSummary {
  /** Video codecs we decode that the offer's sending video section lists, in the offer's order of preference. */
  videoCodecs: VideoCodec[];
  mediaSections: number;
}

const MAX_MEDIA_SECTIONS = 8;
const MAX_LINES = 2000;
const MAX_LINE_LENGTH = 4096;
const SUPPORTED: Record<string, VideoCodec> = { vp8: 'vp8', h264: 'h264' };

/**
 * Checks an offer: well-formed SDP lines, a bounded number of sections, a video section that sends (port not 0,
 * not recvonly/inactive), and at least one codec we decode. Throws a `ProtocolError` with code `BAD_SDP`,
 * `NO_VIDEO` or `UNSUPPORTED_CODEC`.
 */
export function inspectOffer(sdp: string): OfferSummary {
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') throw new ProtocolError('BAD_SDP', 'the offer is not SDP (no "v=0" first line)');
  if (lines.length > MAX_LINES) throw new ProtocolError('BAD_SDP', `the offer has more than ${MAX_LINES} lines`);
  const bad = lines.findIndex((l) => !/^[a-z]=/.test(l) || l.length > MAX_LINE_LENGTH);
  if (bad >= 0) throw new ProtocolError('BAD_SDP', `line ${bad + 1} of the offer is not an SDP "x=value" line`);
  const sections: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push([line]);
    else sections.at(-1)?.push(line);
  }
  if (sections.length === 0) throw new ProtocolError('NO_VIDEO', 'the offer has no media section');
  if (sections.length > MAX_MEDIA_SECTIONS) {
    throw new ProtocolError(
      'BAD_SDP',
      `the offer has ${sections.length} media sections; at most ${MAX_MEDIA_SECTIONS}`,
    );
  }
  const video = sections.filter((s) => {
    const m = /^m=video (\d+) \S+/.exec(s[0] ?? '');
    if (!m) return false;
    const direction = s.find((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l))?.slice(2) ?? 'sendrecv';
    return Number(m[1]) !== 0 && (direction === 'sendonly' || direction === 'sendrecv');
  });
  if (video.length === 0) throw new ProtocolError('NO_VIDEO', 'the offer sends no video');
  // WebRTC requires ICE credentials and a DTLS fingerprint (session- or media-level); werift would accept an offer
  // without them and then never connect.
  const session = lines.slice(
    0,
    lines.findIndex((l) => l.startsWith('m=')),
  );
  for (const attr of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:']) {
    const has = (ls: string[]) => ls.some((l) => l.startsWith(attr));
    if (!has(session) && !video.every(has)) {
      throw new ProtocolError('BAD_SDP', `the offer's video section has no ${attr.slice(2, -1)} attribute`);
    }
  }
  const offered: string[] = [];
  const codecs: VideoCodec[] = [];
  for (const section of video) {
    for (const line of section) {
      const m = /^a=rtpmap:\d+ ([^/\s]+)\//.exec(line);
      if (!m?.[1]) continue;
      const name = m[1].toLowerCase();
      offered.push(m[1]);
      const codec = SUPPORTED[name];
      if (codec && !codecs.includes(codec)) codecs.push(codec);
    }
  }
  if (codecs.length === 0) {
    const list = [...new Set(offered)].slice(0, 8).join(', ') || 'none';
    throw new ProtocolError('UNSUPPORTED_CODEC', `the offer's video codecs (${list}) include neither VP8 nor H264`);
  }
  return { videoCodecs: codecs, mediaSections: sections.length };
}

export interface BitrateFloor {
  minKbps: number;
  startKbps: number;
  maxKbps: number;
}

/**
 * Adds Chrome's `x-google-{min,start,max}-bitrate` to every VP8/H264 payload type of the answer's video sections.
 * werift sends no REMB, so Chrome would stay at its 300 kbps start rate and fall to 320x240 (docs/field-notes.md 3).
 */
export function raiseBitrateFloor(answerSdp: string, floor: BitrateFloor): string {
  const eol = answerSdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = answerSdp.split(/\r?\n/);
  const params = `x-google-min-bitrate=${floor.minKbps};x-google-start-bitrate=${floor.startKbps};x-google-max-bitrate=${floor.maxKbps}`;
  const out: string[] = [];
  let inVideo = false;
  const videoPts = new Set<string>();
  const withFmtp = new Set<string>();
  for (const line of lines) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    if (inVideo) {
      const rtp = /^a=rtpmap:(\d+) (VP8|H264)\//i.exec(line);
      if (rtp?.[1]) videoPts.add(rtp[1]);
    }
  }
  inVideo = false;
  for (const line of lines) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (inVideo && fmtp?.[1] && videoPts.has(fmtp[1])) {
      withFmtp.add(fmtp[1]);
      out.push(`${line};${params}`);
      continue;
    }
    out.push(line);
    const rtp = /^a=rtpmap:(\d+) /.exec(line);
    if (inVideo && rtp?.[1] && videoPts.has(rtp[1]) && !lines.some((l) => l.startsWith(`a=fmtp:${rtp[1]} `))) {
      out.push(`a=fmtp:${rtp[1]} ${params}`);
    }
  }
  return out.join(eol);
}
