// Measurements of Review's `Label next` and `Clusters`, run in a page of the built app through the
// engine worker (the same code the Review view runs; see src/worker/reviewSimulation.ts). Two
// functions for the eval and bench scripts to call with a Playwright page:
//
// - evalLabelNextAndClusters(page, log, options?): the open project must be single-label, fully
//   labelled and embedded (flowers5-dev in `npm run eval`). A fixed seeded 20 % hold-out is the
//   test set; from 10 images per class, a simulated user labels 10 images at a time in the order
//   `Label next` proposes, or in random order; the default head (KNN, automatic k) is scored on
//   the hold-out after 50, 100, 200 and 400 labels, mean of 5 seeds. Then all labels are hidden
//   and every image is clustered (automatic k, and k = the number of classes): purity and NMI.
//   `options` overrides the simulation's seeds / checkpoints / startPerClass / batch.
// - benchClusters(page, log, options?): clustering (automatic k) and label-next ranking (KNN on
//   500 labelled, 4,500 ranked) of 5,000 seeded synthetic 768-d embeddings, timed in the worker,
//   with the longest main-thread task seen meanwhile.
//
// Both need `window.__loupe` (open the app with ?debug=1) and an initialised engine.

const round = (x) => (typeof x === 'number' && Number.isFinite(x) ? +x.toFixed(4) : x);

/** The label-next simulation and cluster scores of the open project (see the file comment). */
export async function evalLabelNextAndClusters(page, log = () => {}, options = {}) {
  const t0 = Date.now();
  log('review: label-next simulation and clusters');
  const result = await page.evaluate(
    (call) => window.__loupe.services.engine.simulateReview(call),
    options,
  );
  const table = result.checkpoints.map((labels, i) => ({
    labels,
    labelNext: round(result.labelNext[i]),
    random: round(result.random[i]),
    randomLabelsForSameAccuracy: result.randomLabelsForSameAccuracy[i],
  }));
  const out = {
    images: result.images,
    classes: result.classes,
    heldOut: result.heldOut,
    seeds: result.seeds,
    batch: result.batch,
    labelNext: table,
    clusters: {
      auto: {
        k: result.clusters.auto.k,
        purity: round(result.clusters.auto.purity),
        nmi: round(result.clusters.auto.nmi),
      },
      classes: {
        k: result.clusters.classes.k,
        purity: round(result.clusters.classes.purity),
        nmi: round(result.clusters.classes.nmi),
      },
    },
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  log('review:', JSON.stringify(out));
  return out;
}

/** Clustering and label-next timings on 5,000 synthetic 768-d embeddings in the worker. */
export async function benchClusters(page, log = () => {}, options = {}) {
  log('review: clustering and label-next bench');
  const out = await page.evaluate(async (call) => {
    let longest = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
    });
    observer.observe({ type: 'longtask' });
    try {
      const result = await window.__loupe.services.engine.benchReview(call);
      return { ...result, longestMainThreadTaskMs: Math.round(longest) };
    } finally {
      observer.disconnect();
    }
  }, options);
  log('review bench:', JSON.stringify(out));
  return out;
}
