// The composite-image check of "Explain a prediction", run in a page of the built app with a
// project open and its heads ready (`?debug=1`): each composite puts the middle half-width strip
// of one real photo on the left and of another (a different label) on the right; the engine
// explains both labels with the given head, and a label counts as a hit when more than half of
// its heatmap's mass lies on its own half (a cell straddling the middle counts half to each side,
// as `massShare` in src/core/explain/heatmap.ts). The control scores each label's map against the
// other label's half: a map that ignored the label would score as well there as on its own half.
// Used by tests/e2e/explain.e2e.ts and scripts/benchExplain.mjs.
import { readFileSync } from 'node:fs';

/** Share of a row-major grid's mass left of the middle. */
function leftShare(rows, cols, values) {
  let total = 0;
  let left = 0;
  for (let c = 0; c < cols; c++) {
    const overlap = Math.max(0, Math.min((c + 1) / cols, 0.5) - c / cols) * cols;
    for (let r = 0; r < rows; r++) {
      const v = values[r * cols + c] ?? 0;
      total += v;
      left += v * overlap;
    }
  }
  return total > 0 ? left / total : 0.5;
}

/**
 * @param {import('playwright-core').Page} page
 * @param {{ left: string, right: string, leftLabel: string, rightLabel: string }[]} composites
 *   photo paths and label ids
 * @param {'knn' | 'dense'} head
 * @param {'grad-cam' | 'occlusion'} [method] force a method (default: the head's own)
 */
export async function compositeCheck(page, composites, head, method) {
  const items = composites.map((c) => ({
    ...c,
    leftBytes: readFileSync(c.left).toString('base64'),
    rightBytes: readFileSync(c.right).toString('base64'),
  }));
  const results = await page.evaluate(
    async ({ items, head, method }) => {
      const { store, services, backboneSpec } = window.__loupe;
      const spec = backboneSpec();
      const { aspectMode } = store.getState().project.settings;
      const bitmap = async (b64) =>
        createImageBitmap(new Blob([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))]));
      const out = [];
      for (const item of items) {
        const canvas = new OffscreenCanvas(224, 224);
        const ctx = canvas.getContext('2d');
        for (const [b64, x] of [
          [item.leftBytes, 0],
          [item.rightBytes, 112],
        ]) {
          const bmp = await bitmap(b64);
          const side = Math.min(bmp.width, bmp.height);
          const sx = (bmp.width - side) / 2 + side / 4;
          const sy = (bmp.height - side) / 2;
          ctx.drawImage(bmp, sx, sy, side / 2, side, x, 0, 112, 224);
          bmp.close();
        }
        const image = await canvas.convertToBlob({ type: 'image/png' });
        const started = performance.now();
        const result = await services.engine.explain({
          image,
          head,
          labelIds: [item.leftLabel, item.rightLabel],
          spec,
          aspectMode,
          ...(method ? { method } : {}),
        });
        out.push({ ...result, wallMs: performance.now() - started });
      }
      return out;
    },
    { items, head, method },
  );
  let hits = 0;
  let controlHits = 0;
  const rows = results.map((r, i) => {
    const { leftLabel, rightLabel } = composites[i];
    const map = (id) => r.heatmaps.find((h) => h.labelId === id)?.values ?? [];
    const leftOfLeft = leftShare(r.rows, r.cols, map(leftLabel));
    const leftOfRight = leftShare(r.rows, r.cols, map(rightLabel));
    hits += Number(leftOfLeft > 0.5) + Number(leftOfRight < 0.5);
    controlHits += Number(leftOfRight > 0.5) + Number(leftOfLeft < 0.5);
    return { method: r.method, ms: r.ms, wallMs: r.wallMs, leftOfLeft, leftOfRight };
  });
  const n = 2 * results.length;
  return {
    head,
    method: rows[0]?.method ?? null,
    composites: results.length,
    rate: hits / n,
    controlRate: controlHits / n,
    msPerExplanation: rows.reduce((s, r) => s + r.ms, 0) / Math.max(1, rows.length),
    rows,
  };
}
