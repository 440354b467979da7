// The `Probable mislabels` measurement for `npm run eval`: in a page where a project (flowers5-dev)
// is open, embedded and its heads ready (the page `scripts/eval.mjs` drives, with `?debug=1`),
// the engine worker flips a seeded 10 % of a COPY of the labelled examples' labels to another
// label, computes out-of-fold KNN predictions on the copy and ranks it with the same
// `rankMislabels` the Review view uses; precision and recall of the top N (N = number flipped) are
// averaged over the seeds. A random ranking scores the flipped share (0.10). The project's own
// labels are never changed.
//
// Usage (from scripts/eval.mjs): const mislabels = await evalMislabels(page, log);

/**
 * @param {import('playwright-core').Page} page
 * @param {(...m: unknown[]) => void} log
 * @param {{ fraction?: number, seeds?: number[] }} [options]
 */
export async function evalMislabels(page, log, options = {}) {
  const fraction = options.fraction ?? 0.1;
  const seeds = options.seeds ?? [1, 2, 3, 4, 5];
  const runs = [];
  for (const seed of seeds) {
    const run = await page.evaluate(
      ({ fraction, seed }) => {
        const { store, services } = window.__loupe;
        return services.engine.simulateMislabels({
          fraction,
          seed,
          labelOrder: store.getState().labels.map((l) => l.id),
        });
      },
      { fraction, seed },
    );
    log('mislabels', `seed ${seed}`, JSON.stringify(run));
    runs.push(run);
  }
  const mean = (key) => +(runs.reduce((sum, r) => sum + r[key], 0) / runs.length).toFixed(4);
  return {
    fraction,
    seeds,
    labelled: runs[0]?.labelled ?? 0,
    flipped: runs[0]?.n ?? 0,
    k: runs[0]?.k ?? null,
    precisionAtN: mean('precision'),
    recallAtN: mean('recall'),
    randomBaseline: fraction,
    perSeed: runs.map((r) => ({ hits: r.hits, precision: +r.precision.toFixed(4) })),
    seconds: +(runs.reduce((sum, r) => sum + r.ms, 0) / 1000).toFixed(1),
  };
}
