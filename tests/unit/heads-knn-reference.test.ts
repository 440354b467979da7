// Our KNN head checked against the reference implementation, @tensorflow-models/knn-classifier
// (loaded in bulk with setClassifierDataset): on the same examples and k, the same classes win.
import * as tf from '@tensorflow/tfjs';
import * as knnClassifier from '@tensorflow-models/knn-classifier';
import { beforeAll, describe, expect, it } from 'vitest';
import { KnnHead } from '../../src/core/heads/knn';
import { mulberry32, randomNormal } from '../../src/core/random';

describe('KNN head vs @tensorflow-models/knn-classifier', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('predicts the same class for 60 queries over 3 overlapping clusters', async () => {
    const rng = mulberry32(11);
    const dim = 16;
    const labels = ['a', 'b', 'c'];
    const centres = labels.map(() => Float32Array.from({ length: dim }, () => randomNormal(rng)));
    const sample = (c: number): Float32Array =>
      Float32Array.from(centres[c]!, (v) => v + 1.2 * randomNormal(rng));
    const examples = Array.from({ length: 90 }, (_, i) => ({
      id: `e${i}`,
      embedding: sample(i % 3),
      labelIds: [labels[i % 3]!],
    }));
    const queries = Array.from({ length: 60 }, (_, i) => sample(i % 3));
    const k = 5;

    const head = KnnHead.build(examples, { kind: 'single-label', labels, config: { k } });
    const predictions = await head.predict(queries);
    const ours = predictions.map((p) => p.top);
    // Vote ties are broken differently (ours: the nearer neighbour's class; theirs: class order).
    const tied = predictions.map((p) => {
      const sorted = [...p.probabilities].sort((a, b) => b - a);
      return sorted[0] === sorted[1];
    });

    // setClassifierDataset takes matrices as getClassifierDataset returns them: unit-length rows.
    const unit = (v: Float32Array): number[] => {
      const norm = Math.hypot(...v);
      return Array.from(v, (x) => x / norm);
    };
    const reference = knnClassifier.create();
    reference.setClassifierDataset(
      Object.fromEntries(
        labels.map((label) => [
          label,
          tf.tensor2d(
            examples.filter((e) => e.labelIds[0] === label).flatMap((e) => unit(e.embedding)),
            [30, dim],
          ),
        ]),
      ),
    );
    const theirs: string[] = [];
    for (const q of queries) {
      const x = tf.tensor1d(q);
      theirs.push((await reference.predictClass(x, k)).label);
      x.dispose();
    }
    reference.dispose();
    head.dispose();
    const compared = ours.filter((_, i) => !tied[i]).length;
    expect(compared).toBeGreaterThan(40);
    expect(ours.filter((label, i) => !tied[i] && label !== theirs[i])).toEqual([]);
  });
});
