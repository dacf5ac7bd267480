/** H264 NAL unit types we look at (RFC 6184, ITU-T H.264 Table 7-1). */
export const NAL = {
  IDR: 5,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  STAP_A: 24,
  FU_A: 28,
} as const;

/** What one RTP packet carries: whole NAL units, or a piece of a fragmented one. */
export type H264Piece =
  | { kind: 'nals'; nals: Buffer[] }
  | {
      kind: 'fragment';
      start: boolean;
      end: boolean;
      nalHeader: number;
      data: Buffer;
    };

/**
 * Splits an H264 RTP payload (RFC 6184, packetization-mode 1): single NAL units (types 1-23), STAP-A (24) and
 * FU-A (28). Throws on anything else (STAP-B, MTAP, FU-B: not used by browsers) or on a truncated aggregate.
 */
export function parseH264Payload(payload: Buffer): H264Piece {
  const header = payload[0];
  if (header === undefined) throw new Error('empty H264 payload');
  const type = header & 0x1f;
  if (type >= 1 && type <= 23) return { kind: 'nals', nals: [payload] };
  if (type === NAL.STAP_A) {
    const nals: Buffer[] = [];
    let offset = 1;
    while (offset < payload.length) {
      if (offset + 2 > payload.length) throw new Error('truncated STAP-A size');
      const size = payload.readUInt16BE(offset);
      offset += 2;
      if (size === 0 || offset + size > payload.length) throw new Error('truncated STAP-A unit');
      nals.push(payload.subarray(offset, offset + size));
      offset += size;
    }
    if (nals.length === 0) throw new Error('empty STAP-A');
    return { kind: 'nals', nals };
  }
  if (type === NAL.FU_A) {
    const fu = payload[1];
    if (fu === undefined || payload.length < 3) throw new Error('truncated FU-A');
    return {
      kind: 'fragment',
      start: (fu & 0x80) !== 0,
      end: (fu & 0x40) !== 0,
      nalHeader: (header & 0xe0) | (fu & 0x1f),
      data: payload.subarray(2),
    };
  }
  throw new Error(`unsupported H264 packetization type ${type}`);
}

export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

const START_CODE = Buffer.from([0, 0, 0, 1]);
/** Access-unit delimiter (primary_pic_type 7: any slice type). Appended after each frame so ffmpeg's parser emits it. */
export const ACCESS_UNIT_DELIMITER = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);

/** Annex-B bytes of one access unit: each NAL behind a start code, then an access-unit delimiter. */
export function toAnnexB(nals: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const nal of nals) parts.push(START_CODE, nal);
  parts.push(ACCESS_UNIT_DELIMITER);
  return Buffer.concat(parts);
}
