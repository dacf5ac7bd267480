import { type Tensor, tf } from '../../inference/tf.js';
import { SeededRandom } from './SeededRandom.js';

type LayersModel = import('@tensorflow/tfjs').LayersModel;

export interface HeadConfig {
  inputDim: number;
  classes: number;
  hidden: number;
  dropout: number;
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Stop after this many epochs without a better validation accuracy; the best epoch's weights are kept. */
  patience: number;
  seed: number;
  /** Per-class loss weights (class imbalance); all 1 when absent. */
  classWeights?: number[];
  l2?: number;
}

/** Features and labels; `data` is row-major `labels.length` x dim. */
export interface FeatureSet {
  data: Float32Array;
  labels: Int32Array;
  dim: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

export interface TrainResult {
  model: LayersModel;
  history: EpochStats[];
  bestEpoch: number;
}

/** dense (relu) -> dropout -> dense -> softmax, initialised from `seed`. */
export function buildHead(config: HeadConfig, seed: number, l2 = 0): LayersModel {
  const rng = new SeededRandom(seed);
  const regularizer = l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined;
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [config.inputDim],
        units: config.hidden,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: rng.int() }),
        kernelRegularizer: regularizer,
        name: 'hidden',
      }),
      tf.layers.dropout({ rate: config.dropout, name: 'dropout' }),
      tf.layers.dense({
        units: config.classes,
        kernelInitializer: tf.initializers.glorotUniform({ seed: rng.int() }),
        name: 'logits',
      }),
      tf.layers.softmax({ name: 'probabilities' }),
    ],
  });
}

/** Class weights `(n / (k * n_c)) ** power`: 1 = balanced, 0.5 = softened, 0 = none; normalised to mean 1. */
export function classWeights(labels: ArrayLike<number>, classes: number, power: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i] as number] = (counts[labels[i] as number] ?? 0) + 1;
  const n = labels.length;
  const raw = counts.map((c) => (c > 0 ? (n / (classes * c)) ** power : 0));
  const mean = raw.reduce((a, b) => a + b, 0) / raw.filter((w) => w > 0).length;
  return raw.map((w) => w / mean);
}

/**
 * Trains the head with mini-batch Adam on a seeded shuffle, seeded dropout masks and seeded initialisers, so the
 * same inputs and seed give the same weights. Early stopping on `val`; the best epoch's weights are restored.
 */
export async function trainHead(
  head: HeadConfig,
  train: FeatureSet,
  val: FeatureSet,
  config: TrainConfig,
  onEpoch?: (stats: EpochStats, batchesDone: number) => void,
): Promise<TrainResult> {
  const rng = new SeededRandom(config.seed);
  const model = buildHead(head, rng.int(), config.l2 ?? 0);
  const [dense1, , dense2] = model.layers as [
    import('@tensorflow/tfjs').layers.Layer,
    unknown,
    import('@tensorflow/tfjs').layers.Layer,
  ];
  const optimizer = tf.train.adam(config.learningRate);
  const weights = tf.tensor1d(config.classWeights ?? new Array(head.classes).fill(1));
  const n = train.labels.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const history: EpochStats[] = [];
  let best = { acc: -1, epoch: 0, weights: [] as Tensor[] };
  try {
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      rng.shuffle(order);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < n; start += config.batchSize) {
        const idx = order.slice(start, start + config.batchSize);
        const xb = gatherRows(train, idx);
        const yb = Int32Array.from(idx, (i) => train.labels[i] as number);
        const dropSeed = rng.int();
        const [loss, hits] = tf.tidy(() => {
          const x = tf.tensor2d(xb, [idx.length, train.dim]);
          const y = tf.tensor1d(yb, 'int32');
          const onehot = tf.oneHot(y, head.classes);
          const w = weights.gather(y);
          let logitsOut: Tensor | undefined;
          const lossT = optimizer.minimize(() => {
            let h = dense1.apply(x) as Tensor;
            if (head.dropout > 0) h = tf.dropout(h, head.dropout, undefined, dropSeed);
            const logits = dense2.apply(h) as Tensor;
            logitsOut = tf.keep(logits);
            const ce = tf.losses.softmaxCrossEntropy(onehot, logits, w, 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
            const reg = (model.losses as unknown as (() => Tensor)[]).map((f) => f());
            return (reg.length > 0 ? ce.add(tf.addN(reg)) : ce) as import('@tensorflow/tfjs').Scalar;
          }, true) as Tensor;
          const hitsT = (logitsOut as Tensor).argMax(1).equal(y).sum();
          (logitsOut as Tensor).dispose();
          return [lossT.dataSync()[0] as number, hitsT.dataSync()[0] as number];
        });
        lossSum += loss * idx.length;
        correct += hits;
      }
      const v = evaluateHead(model, val, weights);
      const stats = { epoch, loss: lossSum / n, accuracy: correct / n, valLoss: v.loss, valAccuracy: v.accuracy };
      history.push(stats);
      onEpoch?.(stats, epoch);
      if (v.accuracy > best.acc) {
        for (const t of best.weights) t.dispose();
        best = { acc: v.accuracy, epoch, weights: model.getWeights().map((t) => t.clone()) };
      } else if (epoch - best.epoch >= config.patience) {
        break;
      }
    }
    if (best.weights.length > 0) model.setWeights(best.weights);
    return { model, history, bestEpoch: best.epoch };
  } finally {
    for (const t of best.weights) t.dispose();
    weights.dispose();
    optimizer.dispose();
  }
}

/** Probabilities of the head for every row, in batches. */
export function predictHead(model: LayersModel, data: Float32Array, dim: number, batchSize = 1024): Float32Array {
  const rows = data.length / dim;
  const out: number[] = [];
  for (let start = 0; start < rows; start += batchSize) {
    const end = Math.min(rows, start + batchSize);
    const probs = tf.tidy(() => {
      const x = tf.tensor2d(data.subarray(start * dim, end * dim), [end - start, dim]);
      return (model.predict(x) as Tensor).dataSync();
    });
    for (const p of probs) out.push(p);
  }
  return Float32Array.from(out);
}

function evaluateHead(model: LayersModel, set: FeatureSet, weights: Tensor): { loss: number; accuracy: number } {
  const n = set.labels.length;
  if (n === 0) return { loss: Number.NaN, accuracy: 0 };
  const probs = predictHead(model, set.data, set.dim);
  const k = probs.length / n;
  const w = weights.dataSync();
  let loss = 0;
  let wsum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = set.labels[i] as number;
    let arg = 0;
    for (let c = 1; c < k; c++) if ((probs[i * k + c] as number) > (probs[i * k + arg] as number)) arg = c;
    if (arg === y) correct++;
    loss -= (w[y] as number) * Math.log(Math.max(1e-7, probs[i * k + y] as number));
    wsum += w[y] as number;
  }
  return { loss: loss / wsum, accuracy: correct / n };
}

/** Copies the given rows into one contiguous array. */
export function gatherRows(set: { data: Float32Array; dim: number }, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * set.dim);
  idx.forEach((i, k) => {
    out.set(set.data.subarray(i * set.dim, (i + 1) * set.dim), k * set.dim);
  });
  return out;
}
