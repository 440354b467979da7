/**
 * The CSV of a batch classification ("Download CSV"): one row per image with the columns `path`,
 * `predicted`, `confidence`, then one column per label holding that label's probability, headed
 * by the label's name. Fields are quoted per RFC 4180 by `csvRow` (CRLF line ends, fields with a
 * comma, quote or line break in double quotes, inner quotes doubled). The text starts with a
 * UTF-8 byte order mark so spreadsheet programs read non-Latin names as UTF-8; parsers that
 * follow RFC 4180 strictly should strip it. Pure: no DOM, no TF.js.
 *
 * `predicted` holds the predicted label's name; for multi-label projects, the predicted set's
 * names joined with `;`. When the project's "unknown" threshold rejects the prediction,
 * `predicted` is empty and `confidence` reads `unknown` (the probability columns still hold every
 * label's probability).
 */
import { csvRow } from './dataset';

/** Byte order mark written first, so Excel and LibreOffice pick UTF-8. */
export const BATCH_CSV_BOM = '\uFEFF';

/** Joins the names of a multi-label prediction in the `predicted` column. */
export const PREDICTED_SET_SEPARATOR = ';';

export interface BatchCsvRow {
  /** Relative path of the image (folder/sub-folder/file). */
  path: string;
  /** Names of the predicted labels: one for single-label, the set for multi-label; empty = unknown. */
  predicted: readonly string[];
  /** Probability of the most probable label. */
  confidence: number;
  /** One probability per column label, in the order of `labelNames`. */
  probabilities: readonly number[];
}

/** A probability as written in the CSV: at most 6 decimals, no exponent. */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return '';
  return String(Number(p.toFixed(6)));
}

/** The header and one line per row, as one string (with the BOM). */
export function batchCsv(labelNames: readonly string[], rows: Iterable<BatchCsvRow>): string {
  const lines = [BATCH_CSV_BOM + csvRow(['path', 'predicted', 'confidence', ...labelNames])];
  for (const row of rows) {
    const unknown = row.predicted.length === 0;
    lines.push(
      csvRow([
        row.path,
        row.predicted.join(PREDICTED_SET_SEPARATOR),
        unknown ? 'unknown' : formatProbability(row.confidence),
        ...labelNames.map((_, i) => formatProbability(row.probabilities[i] ?? 0)),
      ]),
    );
  }
  return lines.join('');
}
