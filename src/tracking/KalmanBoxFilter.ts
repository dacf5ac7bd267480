import type { Box } from '../core/types.js';

/**
 * A constant-velocity Kalman filter on a face box, in continuous time (dt in ms, since streams run at different and
 * varying rates). The state is centre x, centre y, width and height, each with its velocity. As in DeepSORT and
 * ByteTrack the four coordinates are independent (block-diagonal model), so the filter is four 2-state filters;
 * the noise scales with the box height, so a near face and a far face are tracked alike.
 */
export class KalmanBoxFilter {
  /** Per coordinate: position, velocity (per ms), and the 2x2 covariance [pp, pv, vv]. */
  readonly #x = new Float64Array(4);
  readonly #v = new Float64Array(4);
  readonly #p = new Float64Array(12);

  /** Std of a measured position, as a fraction of the box height. */
  static readonly POSITION_NOISE = 1 / 10;
  /** Std of the velocity's random walk per second, as a fraction of the box height. */
  static readonly VELOCITY_NOISE = 1 / 2;

  constructor(box: Box) {
    const z = toMeasurement(box);
    const h = Math.max(1, box.h);
    for (let k = 0; k < 4; k++) {
      this.#x[k] = z[k] as number;
      this.#v[k] = 0;
      const posStd = 2 * KalmanBoxFilter.POSITION_NOISE * h;
      const velStd = (10 * KalmanBoxFilter.VELOCITY_NOISE * h) / 1000;
      this.#p.set([posStd * posStd, 0, velStd * velStd], k * 3);
    }
  }

  /** Moves the state `dtMs` ahead. */
  predict(dtMs: number): void {
    if (dtMs <= 0) return;
    const h = Math.max(1, this.#x[3] as number);
    // Velocity variance, in (px/ms)², added per second (a random walk of VELOCITY_NOISE·h px/s per √s); per ms below.
    const q = ((KalmanBoxFilter.VELOCITY_NOISE * h) / 1000) ** 2;
    for (let k = 0; k < 4; k++) {
      this.#x[k] = (this.#x[k] as number) + (this.#v[k] as number) * dtMs;
      const [pp, pv, vv] = [this.#p[k * 3] as number, this.#p[k * 3 + 1] as number, this.#p[k * 3 + 2] as number];
      // P = F P Fᵀ + Q for F = [[1, dt], [0, 1]], Q from a white-noise acceleration model.
      const qv = (q * dtMs) / 1000;
      this.#p[k * 3] = pp + 2 * dtMs * pv + dtMs * dtMs * vv + (qv * dtMs * dtMs) / 3;
      this.#p[k * 3 + 1] = pv + dtMs * vv + (qv * dtMs) / 2;
      this.#p[k * 3 + 2] = vv + qv;
    }
    if ((this.#x[2] as number) < 1) this.#x[2] = 1;
    if ((this.#x[3] as number) < 1) this.#x[3] = 1;
  }

  /** Corrects the state with a measured box. */
  update(box: Box): void {
    const z = toMeasurement(box);
    const r = (KalmanBoxFilter.POSITION_NOISE * Math.max(1, box.h)) ** 2;
    for (let k = 0; k < 4; k++) {
      const [pp, pv, vv] = [this.#p[k * 3] as number, this.#p[k * 3 + 1] as number, this.#p[k * 3 + 2] as number];
      const s = pp + r;
      const kp = pp / s;
      const kv = pv / s;
      const innovation = (z[k] as number) - (this.#x[k] as number);
      this.#x[k] = (this.#x[k] as number) + kp * innovation;
      this.#v[k] = (this.#v[k] as number) + kv * innovation;
      this.#p[k * 3] = (1 - kp) * pp;
      this.#p[k * 3 + 1] = (1 - kp) * pv;
      this.#p[k * 3 + 2] = vv - kv * pv;
    }
  }

  get box(): Box {
    const [cx, cy, w, h] = this.#x as unknown as [number, number, number, number];
    return { x: cx - w / 2, y: cy - h / 2, w, h };
  }

  /** Velocity of the centre in pixels per second. */
  get velocity(): { x: number; y: number } {
    return { x: (this.#v[0] as number) * 1000, y: (this.#v[1] as number) * 1000 };
  }
}

function toMeasurement(box: Box): [number, number, number, number] {
  return [box.x + box.w / 2, box.y + box.h / 2, box.w, box.h];
}
