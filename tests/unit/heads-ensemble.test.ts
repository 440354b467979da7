// Averaged predictions: the KNN + dense ensemble and test-time flip averaging in cross-validation.
import { describe, expect, it } from 'vitest';
import {
  AveragedHeads,
  averagePredictions,
  crossValidateHead,
  type EmbeddingBatch,
  type Prediction,
  type Predictor,
} from '../../src/core/heads';

const pred = (probabilities: number[], labels: string[]): Prediction => {
  const best = probabilities.indexOf(Math.max(...probabilities));
  return {
    probabilities,
    top: labels[best] ?? null,
    topProbability: probabilities[best] ?? 0,
    labels: [labels[best]!],
  };
};

/** A head whose probabilities are the embedding itself, normalised to sum 1, in `labels` order. */
function echoHead(labels: string[], onDispose: () => void = () => {}): Predictor {
  return {
    labels,
    async predict(embeddings: EmbeddingBatch) {
      return (embeddings as readonly Float32Array[]).map((e) => {
        const sum = e.reduce((a, b) => a + b, 0);
        return pred(
          [...e].map((x) => x / sum),
          labels,
        );
      });
    },
    dispose: onDispose,
  };
}

describe('averaged predictions', () => {
  it('averages per-label probabilities and decides the label again', () => {
    const labels = ['a', 'b', 'c'];
    const out = averagePredictions(
      [[pred([0.6, 0.3, 0.1], labels)], [pred([0.1, 0.5, 0.4], labels)]],
      labels,
      'single-label',
    );
    expect(out[0]!.probabilities.map((p) => +p.toFixed(3))).toEqual([0.35, 0.4, 0.25]);
    expect(out[0]!.top).toBe('b');
    expect(out[0]!.labels).toEqual(['b']);
    const multi = averagePredictions(
      [[pred([0.9, 0.6, 0.1], labels)], [pred([0.7, 0.2, 0.3], labels)]],
      labels,
      'multi-label',
    );
    expect(multi[0]!.labels).toEqual(['a']);
    expect(() =>
      averagePredictions([[], [pred([1, 0, 0], labels)]], labels, 'single-label'),
    ).toThrow(/one prediction per image/);
  });

  it('AveragedHeads aligns each head to one label order and frees every head', async () => {
    let disposed = 0;
    const ensemble = new AveragedHeads(
      [echoHead(['a', 'b'], () => disposed++), echoHead(['b', 'a'], () => disposed++)],
      ['a', 'b'],
      'single-label',
    );
    // Head 1 reads [3, 1] as a 0.75 / b 0.25; head 2 as b 0.75 / a 0.25: the mean is even.
    const [p] = await ensemble.predict([Float32Array.of(3, 1)]);
    expect(p!.probabilities).toEqual([0.5, 0.5]);
    ensemble.dispose();
    expect(disposed).toBe(2);
  });

  it('cross-validation averages each validation image with its test-time views', async () => {
    // Every image's own embedding leans to the wrong label; its view leans clearly to the right one.
    const items = Array.from({ length: 10 }, (_, i) => {
      const label = i % 2 === 0 ? 'a' : 'b';
      return {
        id: `s${i}`,
        labelIds: [label],
        embedding: label === 'a' ? Float32Array.of(0.45, 0.55) : Float32Array.of(0.55, 0.45),
        view: label === 'a' ? Float32Array.of(0.9, 0.1) : Float32Array.of(0.1, 0.9),
      };
    });
    const views = new Map(items.map((item) => [item.id, item.view]));
    const run = (withViews: boolean) =>
      crossValidateHead({
        items,
        kind: 'single-label',
        labels: ['a', 'b'],
        folds: 5,
        seed: 1,
        fit: async (_train, labels) => echoHead(labels),
        ...(withViews ? { testViews: (id: string) => [views.get(id)!] } : {}),
      });
    const plain = await run(false);
    const averaged = await run(true);
    expect(plain.pooled.kind === 'single-label' && plain.pooled.accuracy).toBe(0);
    expect(averaged.pooled.kind === 'single-label' && averaged.pooled.accuracy).toBe(1);
  });
});
