/**
 * The VP8 RTP payload descriptor (RFC 7741 §4.2), parsed by us: werift 0.24 strips the wrong number of bytes when
 * the L bit is set without T (or T without L), which corrupts frames from Chrome.
 *
 *   byte 0:  X R N S R PID(3)
 *   if X:    I L T K RSV(4)
 *   if I:    M PictureID(7) [PictureID(8) when M]
 *   if L:    TL0PICIDX(8)
 *   if T|K:  TID(2) Y KEYIDX(5)     (one byte shared by T and K)
 */
export interface Vp8Descriptor {
  /** Bytes to strip before the VP8 payload. */
  headerLength: number;
  /** Start of a VP8 partition. */
  start: boolean;
  partitionId: number;
  pictureId?: number;
}

/** Parses the descriptor; undefined when the payload is too short for the bits it announces. */
export function parseVp8Descriptor(payload: Uint8Array): Vp8Descriptor | undefined {
  const b0 = payload[0];
  if (b0 === undefined) return undefined;
  let offset = 1;
  let pictureId: number | undefined;
  if (b0 & 0x80) {
    const b1 = payload[offset++];
    if (b1 === undefined) return undefined;
    const hasI = (b1 & 0x80) !== 0;
    const hasL = (b1 & 0x40) !== 0;
    const hasT = (b1 & 0x20) !== 0;
    const hasK = (b1 & 0x10) !== 0;
    if (hasI) {
      const p0 = payload[offset++];
      if (p0 === undefined) return undefined;
      if (p0 & 0x80) {
        const p1 = payload[offset++];
        if (p1 === undefined) return undefined;
        pictureId = ((p0 & 0x7f) << 8) | p1;
      } else {
        pictureId = p0 & 0x7f;
      }
    }
    if (hasL) offset++;
    if (hasT || hasK) offset++;
  }
  if (offset > payload.length) return undefined;
  return {
    headerLength: offset,
    start: (b0 & 0x10) !== 0,
    partitionId: b0 & 0x07,
    pictureId,
  };
}

/**
 * Whether a VP8 frame (the bytes after the descriptor of the first packet) is a keyframe: the P bit of the frame
 * tag is 0, and a keyframe carries the start code 9d 01 2a.
 */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  const tag = frame[0];
  if (tag === undefined || (tag & 0x01) !== 0) return false;
  return frame[3] === 0x9d && frame[4] === 0x01 && frame[5] === 0x2a;
}

/** Width and height from a VP8 keyframe header, or undefined for an inter frame. */
export function vp8KeyframeSize(frame: Uint8Array): { width: number; height: number } | undefined {
  if (!isVp8Keyframe(frame) || frame.length < 10) return undefined;
  const width = (((frame[7] ?? 0) << 8) | (frame[6] ?? 0)) & 0x3fff;
  const height = (((frame[9] ?? 0) << 8) | (frame[8] ?? 0)) & 0x3fff;
  return { width, height };
}
