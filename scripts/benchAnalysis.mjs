// The Review analyses in `npm run bench`: in a page where a project is open and its heads ready
// (`?debug=1`), the engine worker times out-of-fold KNN predictions (5 folds) and the
// near-duplicate search (all pairs, chunked matrix products, then grouping) on `count` embeddings
// made of the project's own (repeated with small seeded noise; seeded random vectors when it has
// none), while a PerformanceObserver on the page records every main-thread long task (> 50 ms).
// Targets: out-of-fold < 10 s and duplicates < 15 s for 5,000 embeddings, no long task.
//
// Usage (from scripts/bench.mjs): const analysis = await benchAnalysis(page, log);

/**
 * @param {import('playwright-core').Page} page
 * @param {(...m: unknown[]) => void} log
 * @param {{ count?: number, seed?: number }} [options]
 */
export async function benchAnalysis(page, log, options = {}) {
  const count = options.count ?? 5000;
  const seed = options.seed ?? 1;
  await page.evaluate(() => {
    const tasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push(Math.round(entry.duration));
    });
    observer.observe({ type: 'longtask' });
    window.__reviewBenchLongTasks = { tasks, observer };
  });
  const started = Date.now();
  const result = await page.evaluate(
    ({ count, seed }) => window.__loupe.services.engine.benchAnalysis({ count, seed }),
    { count, seed },
  );
  // Let the observer deliver the last entries before reading them.
  await page.waitForTimeout(200);
  const longTasks = await page.evaluate(() => {
    const { tasks, observer } = window.__reviewBenchLongTasks;
    observer.disconnect();
    delete window.__reviewBenchLongTasks;
    return tasks;
  });
  const backend = await page.evaluate(
    () => window.__loupe.store.getState().engineStatus?.backend ?? null,
  );
  const report = {
    backend,
    ...result,
    wallMs: Date.now() - started,
    longTasksOver50ms: longTasks.length,
    longestTaskMs: longTasks.length > 0 ? Math.max(...longTasks) : 0,
    targets: { outOfFoldMs: 10_000, duplicatesMs: 15_000 },
    withinTargets:
      result.outOfFoldMs < 10_000 && result.duplicatesMs < 15_000 && longTasks.length === 0,
  };
  log('review bench', JSON.stringify(report));
  return report;
}
