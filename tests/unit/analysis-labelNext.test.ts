// Label next ranking on small hand-made cases: the most uncertain image comes first, a near-copy of
// an image already picked is demoted below a less uncertain but different one, and without
// probabilities the ranking spreads over the different scenes.
import { describe, expect, it } from 'vitest';
import { rankLabelNext, uncertaintyOf } from '../../src/core/analysis/labelNext';

const v = (...values: number[]): Float32Array => Float32Array.from(values);
const LABELS = ['a', 'b', 'c'];

describe('uncertaintyOf', () => {
  it('is 1 - margin of the two best labels (single-label), closeness to 0.5 (multi-label)', () => {
    expect(uncertaintyOf([0.5, 0.5, 0], 'single-label')).toBeCloseTo(1);
    expect(uncertaintyOf([0.6, 0.2, 0.2], 'single-label')).toBeCloseTo(0.6);
    expect(uncertaintyOf([1, 0, 0], 'single-label')).toBeCloseTo(0);
    expect(uncertaintyOf([0.9, 0.5], 'multi-label')).toBeCloseTo(1);
    expect(uncertaintyOf([1, 0], 'multi-label')).toBeCloseTo(0);
    expect(uncertaintyOf(null, 'single-label')).toBe(1);
  });
});

describe('rankLabelNext', () => {
  it('puts the most uncertain image first and suggests its most probable label', () => {
    const ranked = rankLabelNext(
      [
        { id: 'sure', embedding: v(1, 0, 0), probabilities: [1, 0, 0] },
        { id: 'torn', embedding: v(0, 1, 0), probabilities: [0.2, 0.4, 0.4] },
        { id: 'leaning', embedding: v(0, 0, 1), probabilities: [0.6, 0.4, 0] },
      ],
      { kind: 'single-label', labels: LABELS, diversity: 0 },
    );
    expect(ranked.map((r) => r.sampleId)).toEqual(['torn', 'leaning', 'sure']);
    expect(ranked[1]).toMatchObject({ suggested: 'a', suggestedProbability: 0.6 });
    expect(ranked[0]?.uncertainty).toBeCloseTo(1);
  });

  it('demotes a near-copy of an image already picked below a different, less uncertain one', () => {
    const candidates = [
      { id: 'scene', embedding: v(1, 0, 0), probabilities: [0.5, 0.5, 0] },
      { id: 'scene-copy', embedding: v(0.99, 0.05, 0), probabilities: [0.5, 0.5, 0] },
      { id: 'other', embedding: v(0, 0, 1), probabilities: [0.7, 0.3, 0] },
    ];
    const plain = rankLabelNext(candidates, { kind: 'single-label', labels: LABELS, diversity: 0 });
    expect(plain.map((r) => r.sampleId)).toEqual(['scene', 'scene-copy', 'other']);
    const diverse = rankLabelNext(candidates, { kind: 'single-label', labels: LABELS });
    expect(diverse.map((r) => r.sampleId)).toEqual(['scene', 'other', 'scene-copy']);
  });

  it('without probabilities spreads over the scenes, stops at the limit, ties by id', () => {
    const candidates = [
      { id: 'a1', embedding: v(1, 0), probabilities: null },
      { id: 'a2', embedding: v(1, 0.01), probabilities: null },
      { id: 'b1', embedding: v(0, 1), probabilities: null },
    ];
    const ranked = rankLabelNext(candidates, { kind: 'single-label', labels: [], limit: 2 });
    expect(ranked.map((r) => r.sampleId)).toEqual(['a1', 'b1']);
    expect(ranked[0]?.suggested).toBeNull();
  });

  it('stops when aborted', () => {
    const controller = new AbortController();
    controller.abort();
    expect(() =>
      rankLabelNext([{ id: 'x', embedding: v(1), probabilities: null }], {
        kind: 'single-label',
        labels: [],
        signal: controller.signal,
      }),
    ).toThrow(/cancelled/);
  });
});
