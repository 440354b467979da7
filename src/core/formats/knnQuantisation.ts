/**
 * The accuracy cost of a quantised KNN export: the same validation items scored (`scoreHead`, the
 * app's one scoring rule) with the app's KNN head over the export's float32 rows and over its
 * float16 / int8 rows, so the UI can say e.g. "int8: -0.4 points". Runs on the current tfjs backend.
 */
import { headlineScore } from '../eval/metrics';
import { scoreHead, type HeadScore } from '../heads/evaluate';
import { KnnHead } from '../heads/knn';
import {
  buildKnnExport,
  readKnnExport,
  type KnnExportContents,
  type KnnExportDtype,
  type KnnExportExample,
  type KnnExportInput,
} from './knnExport';

/** Fewest labelled examples the cost is measured on (a hold-out of fewer would say little). */
export const MIN_ITEMS_TO_MEASURE_QUANTISATION = 10;

export interface QuantisationCost {
  dtype: KnnExportDtype;
  /** `accuracy` (single-label) or `micro-f1` (multi-label): the app's headline score. */
  metric: 'accuracy' | 'micro-f1';
  /** Validation items scored (those with at least one exported label). */
  n: number;
  /** Score in [0, 1] with float32 rows. */
  float32: number;
  /** Score in [0, 1] with `dtype` rows. */
  quantised: number;
  /** (quantised - float32) in percentage points, e.g. -0.4. */
  deltaPoints: number;
  /** Validation items whose predicted labels differ between float32 and `dtype`. */
  changed: number;
  /** Size of `knn-examples.bin` for float32 and for `dtype`. */
  bytes: { float32: number; quantised: number };
}

/** The app's own KNN head over an export's decoded rows and settings (the caller disposes it). */
function headOver(contents: KnnExportContents): KnnHead {
  const { manifest, rows } = contents;
  const ids = manifest.labels.map((l) => l.id);
  return KnnHead.build(
    rows.map((embedding, r) => ({
      id: String(r),
      embedding,
      labelIds: (manifest.rowLabels[r] ?? []).map((l) => ids[l] ?? ''),
    })),
    {
      kind: manifest.kind,
      labels: ids,
      config: {
        k: manifest.k,
        weighted: manifest.weighted,
        unknownSimilarity: manifest.unknownSimilarity,
        multiLabelThreshold: manifest.multiLabelThreshold,
      },
    },
  );
}

/** `scoreHead` of a KNN head over `contents`' rows. */
async function scoreRows(
  contents: KnnExportContents,
  validation: readonly KnnExportExample[],
): Promise<HeadScore> {
  const head = headOver(contents);
  try {
    const labels = contents.manifest.labels.map((l) => l.id);
    return await scoreHead(head, validation, labels, contents.manifest.kind);
  } finally {
    head.dispose();
  }
}

/**
 * Scores `validation` against the float32 rows and against `input.dtype` rows of the same export.
 * Labels outside the exported labels are dropped and items left without one are not scored, nor
 * are items of another embedding width.
 */
export async function measureQuantisationCost(
  input: KnnExportInput,
  validation: readonly KnnExportExample[],
): Promise<QuantisationCost> {
  const exact = buildKnnExport({ ...input, dtype: 'float32' });
  const quant = input.dtype === 'float32' ? exact : buildKnnExport(input);
  const exactRows = readKnnExport(exact.manifest, exact.examples);
  const quantRows = quant === exact ? exactRows : readKnnExport(quant.manifest, quant.examples);
  const sameWidth = validation.filter((v) => v.embedding.length === exact.manifest.dim);
  const a = await scoreRows(exactRows, sameWidth);
  const b = await scoreRows(quantRows, sameWidth);
  const float32 = headlineScore(a.metrics);
  const quantised = headlineScore(b.metrics);
  const changed = a.predicted.filter((p, i) => {
    const other = b.predicted[i] ?? [];
    return p.length !== other.length || p.some((l, j) => other[j] !== l);
  }).length;
  return {
    dtype: input.dtype,
    metric: input.kind === 'single-label' ? 'accuracy' : 'micro-f1',
    n: a.metrics.n,
    float32,
    quantised,
    deltaPoints: (quantised - float32) * 100,
    changed,
    bytes: { float32: exact.examples.byteLength, quantised: quant.examples.byteLength },
  };
}
