import type { Backbone } from './Backbone.js';
import { type ExtractOptions, extractFeatures } from './FeatureExtractor.js';
import type { FeatureSet } from './HeadTrainer.js';
import { ProgressBar } from './ProgressBar.js';
import { SurgicalMask } from './SurgicalMask.js';
import type { LabelledImage } from './TrainingSet.js';

/** Appends the features of the training images with a drawn surgical mask (computed once, cached). */
export async function withMaskedViews(
  train: FeatureSet,
  trainImgs: number[],
  images: LabelledImage[],
  paths: string[],
  backbones: Backbone[],
  extract: Omit<ExtractOptions, 'mirrored'>,
  progress: NodeJS.WriteStream,
): Promise<FeatureSet> {
  const masker = SurgicalMask.load();
  try {
    const bar = new ProgressBar(progress, 'features (masked)');
    const masked = await extractFeatures(
      trainImgs.map((i) => paths[i] as string),
      backbones,
      { ...extract, mirrored: false, transform: masker, onProgress: (d, t) => bar.update(d, t) },
    );
    bar.line(trainImgs.length, trainImgs.length, `(${masked.hits} cached, ${masked.misses} computed)`);
    const rows = masked.kept.length;
    const data = new Float32Array(train.data.length + rows * train.dim);
    data.set(train.data);
    data.set(masked.data, train.data.length);
    const labels = new Int32Array(train.labels.length + rows);
    labels.set(train.labels);
    masked.kept.forEach((k, r) => {
      labels[train.labels.length + r] = (images[trainImgs[k] as number] as LabelledImage).label;
    });
    return { data, labels, dim: train.dim };
  } finally {
    masker.dispose();
  }
}
