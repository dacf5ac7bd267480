/** The fields of an RTP packet the frame assembly needs (werift's RtpPacket maps onto this). */
export interface RtpPacketIn {
  /** 16-bit sequence number. */
  seq: number;
  /** 32-bit RTP timestamp (90 kHz for video). */
  timestamp: number;
  /** Last packet of a frame. */
  marker: boolean;
  /** Payload after the RTP header, header extensions and padding; empty for padding-only packets. */
  payload: Buffer;
}

/** Signed distance from `a` to `b` in 16-bit sequence space: 1 means `b` follows `a`. */
export function seqDelta(a: number, b: number): number {
  const d = (b - a) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
