/** Reads the picture size from an H264 sequence parameter set (ITU-T H.264 §7.3.2.1.1), cropping applied. */
export function h264SpsSize(sps: Uint8Array): { width: number; height: number } | undefined {
  try {
    return parse(sps);
  } catch {
    return undefined;
  }
}

class BitReader {
  #bit = 0;
  constructor(readonly bytes: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bytes[this.#bit >> 3];
      if (byte === undefined) throw new RangeError('SPS ended early');
      v = (v << 1) | ((byte >> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    return v >>> 0;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('bad exp-Golomb code');
    }
    return (2 ** zeros - 1 + (zeros > 0 ? this.u(zeros) : 0)) >>> 0;
  }
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}

/** Removes emulation-prevention bytes (00 00 03 -> 00 00). */
function removeEmulationPrevention(nal: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i] ?? 0;
    if (b === 3 && i >= 2 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function parse(nal: Uint8Array): { width: number; height: number } | undefined {
  if (((nal[0] ?? 0) & 0x1f) !== 7) return undefined;
  const r = new BitReader(removeEmulationPrevention(nal.subarray(1)));
  const profile = r.u(8);
  r.u(16); // constraint flags, level
  r.ue(); // sps id
  let chromaFormat = 1;
  let separateColourPlane = 0;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) separateColourPlane = r.u(1);
    r.ue(); // bit depth luma
    r.ue(); // bit depth chroma
    r.u(1); // qpprime_y_zero_transform_bypass
    if (r.u(1)) {
      for (let i = 0; i < (chromaFormat === 3 ? 12 : 8); i++) {
        if (!r.u(1)) continue;
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size; j++) {
          if (next !== 0) next = (last + r.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  r.ue(); // log2_max_frame_num
  const pocType = r.ue();
  if (pocType === 0) r.ue();
  else if (pocType === 1) {
    r.u(1);
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps allowed
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u(1);
  if (!frameMbsOnly) r.u(1);
  r.u(1); // direct_8x8_inference
  let crop = { l: 0, r: 0, t: 0, b: 0 };
  if (r.u(1)) crop = { l: r.ue(), r: r.ue(), t: r.ue(), b: r.ue() };
  const chromaArrayType = separateColourPlane ? 0 : chromaFormat;
  const subW = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subH = chromaArrayType === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subW;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subH) * (2 - frameMbsOnly);
  const width = widthMbs * 16 - cropUnitX * (crop.l + crop.r);
  const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropUnitY * (crop.t + crop.b);
  return width > 0 && height > 0 ? { width, height } : undefined;
}
