// k-means++ clustering on small hand-made cases: obvious blobs are separated, the same seed gives
// the same clusters, the automatic k finds the number of clear blobs, and purity / NMI score a
// clustering against known classes.
import { describe, expect, it } from 'vitest';
import { clusterAgreement, clusterEmbeddings, maxClusters } from '../../src/core/analysis/clusters';
import { clusters as blobs } from '../fixtures/embeddings';

const groups = (n: number): string[][] => Array.from({ length: n }, (_, i) => [`c${i}`]);

/** The clusters as sets of true labels: each cluster should hold exactly one blob. */
function labelsPerCluster(
  data: ReturnType<typeof blobs>,
  result: ReturnType<typeof clusterEmbeddings>,
): string[][] {
  const labelOf = new Map(data.map((d) => [d.id, d.labelIds[0] ?? '']));
  return result.clusters.map((c) => [...new Set(c.sampleIds.map((id) => labelOf.get(id) ?? ''))]);
}

describe('clusterEmbeddings', () => {
  it('separates obvious blobs with the given k, largest first, every image once', () => {
    const data = blobs(3, groups(3), 10, 16, 0.2);
    const result = clusterEmbeddings(data, { k: 3 });
    expect(result).toMatchObject({ k: 3, autoK: false });
    expect(result.clusters).toHaveLength(3);
    for (const labels of labelsPerCluster(data, result)) expect(labels).toHaveLength(1);
    expect(result.clusters.flatMap((c) => c.sampleIds).sort()).toEqual(
      data.map((d) => d.id).sort(),
    );
  });

  it('is deterministic for a seed and independent of the input order', () => {
    const data = blobs(5, groups(4), 8, 12, 0.8);
    const a = clusterEmbeddings(data, { k: 4, seed: 7 });
    const b = clusterEmbeddings(data, { k: 4, seed: 7 });
    expect(b).toEqual(a);
  });

  it('chooses the number of clear blobs automatically', () => {
    for (const n of [3, 5]) {
      const data = blobs(11 + n, groups(n), 12, 16, 0.25);
      const result = clusterEmbeddings(data, { k: 'auto' });
      expect(result.autoK).toBe(true);
      expect(result.k).toBe(n);
      expect(result.silhouettes.map((s) => s.k)).toEqual(
        Array.from({ length: maxClusters(data.length) - 1 }, (_, i) => i + 2),
      );
      for (const labels of labelsPerCluster(data, result)) expect(labels).toHaveLength(1);
    }
  });

  it('over the sample size, refines the sample clustering on every image', () => {
    const data = blobs(17, groups(4), 150, 8, 0.25);
    const result = clusterEmbeddings(data, { k: 'auto' });
    expect(result.k).toBe(4);
    expect(result.clusters.map((c) => c.sampleIds.length)).toEqual([150, 150, 150, 150]);
    for (const labels of labelsPerCluster(data, result)) expect(labels).toHaveLength(1);
  });

  it('handles tiny inputs: none, one cluster below six images, k clamped to n', () => {
    expect(clusterEmbeddings([]).clusters).toEqual([]);
    const few = blobs(1, groups(2), 2, 4, 0.1);
    expect(clusterEmbeddings(few).k).toBe(1);
    expect(clusterEmbeddings(few, { k: 10 }).k).toBe(4);
  });
});

describe('clusterAgreement', () => {
  it('is 1 / 1 for a perfect clustering (any cluster ids) and low for an unrelated one', () => {
    expect(clusterAgreement([5, 5, 2, 2], [0, 0, 1, 1])).toEqual({ purity: 1, nmi: 1 });
    const mixed = clusterAgreement([0, 1, 0, 1], [0, 0, 1, 1]);
    expect(mixed.purity).toBe(0.5);
    expect(mixed.nmi).toBeCloseTo(0);
    // One cluster of everything: purity is the majority share, no information.
    const one = clusterAgreement([0, 0, 0, 0], [0, 0, 0, 1]);
    expect(one.purity).toBe(0.75);
    expect(one.nmi).toBeCloseTo(0);
  });
});
