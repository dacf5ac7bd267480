import { describe, expect, it } from 'vitest';
import { inspectOffer, raiseBitrateFloor } from '../../../src/media/webrtcSdp.js';

const FLOOR = { minKbps: 600, startKbps: 1500, maxKbps: 3000 };
const PARAMS = 'x-google-min-bitrate=600;x-google-start-bitrate=1500;x-google-max-bitrate=3000';

/** The shape of werift's answer to a Chrome offer with audio, VP8, H264 (with and without fmtp) and RTX. */
const ANSWER = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103',
  'a=recvonly',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000',
  'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:103 rtx/90000',
  'a=fmtp:103 apt=102',
  '',
].join('\r\n');

describe('raiseBitrateFloor', () => {
  it('adds the x-google bitrates to every VP8/H264 payload type of the video section, nothing else', () => {
    const out = raiseBitrateFloor(ANSWER, FLOOR);
    const lines = out.split('\r\n');
    expect(lines).toContain(`a=fmtp:96 ${PARAMS}`); // VP8 had no fmtp: one is added after its rtpmap
    expect(lines.indexOf(`a=fmtp:96 ${PARAMS}`)).toBe(lines.indexOf('a=rtpmap:96 VP8/90000') + 1);
    expect(lines).toContain(
      `a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f;${PARAMS}`,
    );
    expect(lines).toContain('a=fmtp:97 apt=96'); // RTX untouched
    expect(lines).toContain('a=fmtp:111 minptime=10;useinbandfec=1'); // audio untouched
    expect(lines).toHaveLength(ANSWER.split('\r\n').length + 1);
    expect(out.endsWith('\r\n')).toBe(true);
  });
});

describe('inspectOffer', () => {
  const offer = (video: string[]) =>
    [
      'v=0',
      'o=- 1 0 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'a=ice-ufrag:ab',
      'a=ice-pwd:cd',
      'a=fingerprint:sha-256 00',
      ...video,
    ].join('\r\n');

  it('lists the codecs we decode in the offer order', () => {
    const sdp = offer([
      'm=video 9 UDP/TLS/RTP/SAVPF 102 96 98',
      'a=sendonly',
      'a=rtpmap:102 H264/90000',
      'a=rtpmap:96 VP8/90000',
      'a=rtpmap:98 VP9/90000',
    ]);
    expect(inspectOffer(sdp)).toEqual({ videoCodecs: ['h264', 'vp8'], mediaSections: 1 });
  });

  it('throws typed errors', () => {
    const code = (sdp: string) => {
      try {
        inspectOffer(sdp);
        return 'ok';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code(offer(['m=video 0 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']))).toBe('NO_VIDEO');
    expect(code(offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=inactive', 'a=rtpmap:96 VP8/90000']))).toBe('NO_VIDEO');
    expect(code(offer(['m=video 9 UDP/TLS/RTP/SAVPF 35', 'a=rtpmap:35 AV1/90000']))).toBe('UNSUPPORTED_CODEC');
    expect(
      code(offer(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000']).replace('a=ice-pwd:cd\r\n', '')),
    ).toBe('BAD_SDP');
    expect(code('v=0\r\nm=video 9 RTP/AVP 96\r\nrandom garbage')).toBe('BAD_SDP');
  });
});
