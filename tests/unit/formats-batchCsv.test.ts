import { describe, expect, it } from 'vitest';
import { BATCH_CSV_BOM, batchCsv, formatProbability } from '../../src/core/formats/batchCsv';

/** A small, strict RFC 4180 parser (CRLF records, quoted fields with doubled quotes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`bare line break outside quotes at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('last record lacks CRLF');
  return records;
}

const AWKWARD = [
  'plain/a.jpg',
  'holiday, 2024/beach.jpg',
  'say "cheese"/smile.png',
  'multi\nline\r\nname.jpg',
  'фото/猫の写真 😺.webp',
  ' spaced .jpg',
];

describe('batchCsv', () => {
  it('round-trips awkward paths and label names through an RFC 4180 parser', () => {
    const labels = ['cat, big', 'dog "good"', 'птица\nbird', '鳥'];
    const rows = AWKWARD.map((path, i) => ({
      path,
      predicted: [labels[i % labels.length]!],
      confidence: 0.5 + i / 100,
      probabilities: labels.map((_, j) => (j === i % labels.length ? 0.5 + i / 100 : 0.1)),
    }));
    const text = batchCsv(labels, rows);
    expect(text.startsWith(BATCH_CSV_BOM)).toBe(true);
    const parsed = parseCsv(text.slice(BATCH_CSV_BOM.length));
    expect(parsed[0]).toEqual(['path', 'predicted', 'confidence', ...labels]);
    expect(parsed).toHaveLength(AWKWARD.length + 1);
    for (const [i, row] of rows.entries()) {
      const record = parsed[i + 1]!;
      expect(record[0]).toBe(row.path);
      expect(record[1]).toBe(row.predicted[0]);
      expect(Number(record[2])).toBeCloseTo(row.confidence, 6);
      expect(record.slice(3).map(Number)).toEqual(row.probabilities.map((p) => Number(p)));
    }
    // UTF-8 encoding keeps the non-Latin characters byte-exact.
    const bytes = new TextEncoder().encode(text);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe(text);
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it('writes multi-label sets joined with ";" and "unknown" when nothing passed the threshold', () => {
    const text = batchCsv(
      ['a', 'b', 'c'],
      [
        { path: 'x.jpg', predicted: ['a', 'c'], confidence: 0.9, probabilities: [0.9, 0.2, 0.7] },
        { path: 'y.jpg', predicted: [], confidence: 0.4, probabilities: [0.4, 0.3, 0.1] },
      ],
    );
    const parsed = parseCsv(text.slice(1));
    expect(parsed[1]).toEqual(['x.jpg', 'a;c', '0.9', '0.9', '0.2', '0.7']);
    expect(parsed[2]).toEqual(['y.jpg', '', 'unknown', '0.4', '0.3', '0.1']);
  });

  it('writes only the header for no rows, and probabilities without exponents', () => {
    expect(batchCsv(['only'], [])).toBe(`${BATCH_CSV_BOM}path,predicted,confidence,only\r\n`);
    expect(formatProbability(1e-9)).toBe('0');
    expect(formatProbability(0.1234567)).toBe('0.123457');
    expect(formatProbability(1)).toBe('1');
  });
});
