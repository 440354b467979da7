import { describe, expect, it } from 'vitest';
import {
  applyThresholds,
  argmax,
  headlineScore,
  multiLabelMetrics,
  singleLabelMetrics,
  tuneThresholds,
  UNKNOWN,
} from '../../src/core/eval/metrics';

describe('singleLabelMetrics (hand-computed)', () => {
  // item:   1  2  3  4  5  6  7  8  9   10
  // truth:  0  0  0  1  1  2  2  2  2   0
  // pred:   0  1  0  1  2  2  2  0  ?   0      (? = UNKNOWN)
  const truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 0];
  const pred = [0, 1, 0, 1, 2, 2, 2, 0, UNKNOWN, 0];
  const m = singleLabelMetrics(truth, pred, 3);

  it('accuracy = correct / n = 6 / 10', () => {
    // correct: items 1, 3, 4, 6, 7, 10
    expect(m.n).toBe(10);
    expect(m.accuracy).toBeCloseTo(0.6, 12);
  });

  it('confusion matrix: rows = true, columns = predicted; unknowns tallied apart', () => {
    // true 0: predicted 0 three times (1, 3, 10), 1 once (2)
    // true 1: predicted 1 once (4), 2 once (5)
    // true 2: predicted 2 twice (6, 7), 0 once (8), unknown once (9)
    expect(m.confusion).toEqual([
      [3, 1, 0],
      [0, 1, 1],
      [1, 0, 2],
    ]);
    expect(m.unknownByClass).toEqual([0, 0, 1]);
  });

  it('per-class precision / recall / F1 / support', () => {
    // class 0: tp 3, column sum 3 + 0 + 1 = 4 -> P 3/4; row 4 -> R 3/4; F1 3/4
    // class 1: tp 1, column 1 + 1 = 2 -> P 1/2; row 2 -> R 1/2; F1 1/2
    // class 2: tp 2, column 0 + 1 + 2 = 3 -> P 2/3; row 3 + 1 unknown = 4 -> R 2/4;
    //          F1 = 2 (2/3)(1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7
    const expected = [
      [3 / 4, 3 / 4, 3 / 4, 4],
      [1 / 2, 1 / 2, 1 / 2, 2],
      [2 / 3, 1 / 2, 4 / 7, 4],
    ];
    m.perClass.forEach((s, c) => {
      const [p, r, f1, support] = expected[c] as number[];
      expect(s.precision).toBeCloseTo(p as number, 12);
      expect(s.recall).toBeCloseTo(r as number, 12);
      expect(s.f1).toBeCloseTo(f1 as number, 12);
      expect(s.support).toBe(support);
    });
  });

  it('macro averages', () => {
    // P (3/4 + 1/2 + 2/3) / 3 = 23/36; R (3/4 + 1/2 + 1/2) / 3 = 7/12;
    // F1 (3/4 + 1/2 + 4/7) / 3 = (21 + 14 + 16) / 28 / 3 = 17/28
    expect(m.macro.precision).toBeCloseTo(23 / 36, 12);
    expect(m.macro.recall).toBeCloseTo(7 / 12, 12);
    expect(m.macro.f1).toBeCloseTo(17 / 28, 12);
    expect(headlineScore(m)).toBeCloseTo(0.6, 12);
  });

  it('zero divisions are 0; classes absent from truth and predictions leave the macro average', () => {
    // 4 classes. truth [0, 0], pred [0, 1]: class 1 predicted but never true, classes 2, 3 absent.
    // class 0: P 1/1, R 1/2, F1 2/3. class 1: P 0/1 = 0, R 0/0 := 0, F1 := 0.
    // macro over classes {0, 1}: P 1/2, R 1/4, F1 1/3
    const z = singleLabelMetrics([0, 0], [0, 1], 4);
    expect(z.perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(z.perClass[3]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(z.macro.precision).toBeCloseTo(1 / 2, 12);
    expect(z.macro.recall).toBeCloseTo(1 / 4, 12);
    expect(z.macro.f1).toBeCloseTo(1 / 3, 12);
    const empty = singleLabelMetrics([], [], 2);
    expect(empty.accuracy).toBe(0);
    expect(empty.macro).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('rejects out-of-range labels and length mismatches', () => {
    expect(() => singleLabelMetrics([0], [3], 3)).toThrow();
    expect(() => singleLabelMetrics([UNKNOWN], [0], 3)).toThrow();
    expect(() => singleLabelMetrics([0, 1], [0], 3)).toThrow();
  });
});

describe('multiLabelMetrics (hand-computed)', () => {
  // item  truth    pred     mistakes
  // 1     {0, 1}   {0}      fn 1           -> 1
  // 2     {1}      {1, 2}   fp 2           -> 1
  // 3     {2}      {2}      -              -> 0 (exact)
  // 4     {0, 2}   {}       fn 0, fn 2     -> 2
  const m = multiLabelMetrics([[0, 1], [1], [2], [0, 2]], [[0], [1, 2], [2], []], 3);

  it('subset accuracy and Hamming loss', () => {
    expect(m.subsetAccuracy).toBeCloseTo(1 / 4, 12); // one exact item of 4
    expect(m.hammingLoss).toBeCloseTo(4 / 12, 12); // (1 + 1 + 0 + 2) / (4 items * 3 labels)
  });

  it('per-label P / R / F1', () => {
    // label 0: tp 1 (item 1), fp 0, fn 1 (item 4) -> P 1, R 1/2, F1 2/3
    // label 1: tp 1 (item 2), fp 0, fn 1 (item 1) -> P 1, R 1/2, F1 2/3
    // label 2: tp 1 (item 3), fp 1 (item 2), fn 1 (item 4) -> P 1/2, R 1/2, F1 1/2
    const expected = [
      [1, 1 / 2, 2 / 3],
      [1, 1 / 2, 2 / 3],
      [1 / 2, 1 / 2, 1 / 2],
    ];
    m.perLabel.forEach((s, l) => {
      const [p, r, f1] = expected[l] as number[];
      expect(s.precision).toBeCloseTo(p as number, 12);
      expect(s.recall).toBeCloseTo(r as number, 12);
      expect(s.f1).toBeCloseTo(f1 as number, 12);
      expect(s.support).toBe(2);
    });
  });

  it('micro and macro averages', () => {
    // micro: tp 3, fp 1, fn 3 -> P 3/4, R 3/6, F1 2 (3/4)(1/2) / (5/4) = 3/5
    expect(m.micro.precision).toBeCloseTo(3 / 4, 12);
    expect(m.micro.recall).toBeCloseTo(1 / 2, 12);
    expect(m.micro.f1).toBeCloseTo(3 / 5, 12);
    // macro: P (1 + 1 + 1/2) / 3 = 5/6; R 1/2; F1 (2/3 + 2/3 + 1/2) / 3 = 11/18
    expect(m.macro.precision).toBeCloseTo(5 / 6, 12);
    expect(m.macro.recall).toBeCloseTo(1 / 2, 12);
    expect(m.macro.f1).toBeCloseTo(11 / 18, 12);
    expect(headlineScore(m)).toBeCloseTo(3 / 5, 12);
  });

  it('empty input gives zeros, not NaN', () => {
    const e = multiLabelMetrics([], [], 3);
    expect(e.subsetAccuracy).toBe(0);
    expect(e.hammingLoss).toBe(0);
    expect(e.micro.f1).toBe(0);
  });
});

describe('tuneThresholds (hand-computed)', () => {
  // 5 items, 3 labels; truths: item0 {0, 2}, item1 {0}, item2 {0}, item3 {}, item4 {}
  const scores = [
    [0.9, 0.3, 0.9],
    [0.7, 0.2, 0.1],
    [0.4, 0.6, 0.1],
    [0.3, 0.1, 0.1],
    [0.1, 0.9, 0.1],
  ];
  const truths = [[0, 2], [0], [0], [], []];
  const candidates = [0.2, 0.35, 0.5, 0.8];
  const thresholds = tuneThresholds(scores, truths, { candidates });

  it('picks the F1-maximising candidate per label', () => {
    // label 0 (positives items 0, 1, 2; scores .9 .7 .4 .3 .1):
    //   0.2  -> predicts 0,1,2,3: tp 3 fp 1 -> P 3/4 R 1 F1 6/7
    //   0.35 -> predicts 0,1,2:   tp 3      -> F1 1   <- best
    //   0.5  -> predicts 0,1:     tp 2 fn 1 -> F1 4/5
    //   0.8  -> predicts 0:       tp 1 fn 2 -> F1 1/2
    expect(thresholds[0]).toBe(0.35);
  });

  it('falls back to 0.5 for a label with no positives, and breaks ties towards 0.5', () => {
    // label 1 has no positive item: F1 is 0 at every threshold -> fallback 0.5
    expect(thresholds[1]).toBe(0.5);
    // label 2: only item 0 (score .9) is positive, the rest score .1: every candidate gives F1 1
    expect(thresholds[2]).toBe(0.5);
  });

  it('applyThresholds and argmax', () => {
    expect(applyThresholds([0.9, 0.3, 0.9], thresholds)).toEqual([0, 2]);
    expect(argmax([0.1, 0.7, 0.7])).toBe(1);
    expect(argmax([])).toBe(-1);
  });
});
