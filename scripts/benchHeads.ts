// The measurement behind `npm run bench:heads` (scripts/benchHeads.mjs bundles and runs it): the
// heads' training and evaluation at scale on synthetic embeddings, part by part.
//   train      Train as the worker runs it: the held-out fit on 80 %, scored, refit on all items
//   knn        one cross-validation fold of KNN: auto k on the fold's training part, build, predict
//   cv-dense   one cross-validation fold of the dense head (defaults: hold-out fit and refit)
//   cv-logreg  one cross-validation fold of the logistic-regression reference
//   compare    the whole Compare heads table (compareHeads on fake-indexeddb, auto k): all folds
// Wall time depends on the machine's load; CPU seconds are the process's own (one wasm thread).
import 'fake-indexeddb/auto';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { chooseK } from '../src/core/heads/chooseK';
import type { DenseConfig } from '../src/core/heads/denseConfig';
import { trainDenseHead, type EpochLog } from '../src/core/heads/denseTrain';
import { indexItems, scoreHead, type LabelledEmbedding } from '../src/core/heads/evaluate';
import { KnnHead } from '../src/core/heads/knn';
import { DEFAULT_HEAD_SETTINGS } from '../src/core/heads/settings';
import { byPosition } from '../src/core/heads/trainingSet';
import { headlineScore } from '../src/core/eval/metrics';
import { EVAL_SEED, holdoutSplit, kFoldSplit } from '../src/core/eval/split';
import { deriveSeed, mulberry32, randomNormal } from '../src/core/random';
import { openLoupeDb } from '../src/core/storage/db';
import { putEmbeddings } from '../src/core/storage/embeddings';
import { createProject } from '../src/core/storage/projects';
import { insertSamples } from '../src/core/storage/samples';
import { compareHeads } from '../src/worker/evaluateHeads';
import { ProjectHeads } from '../src/worker/headsService';
import { newSample } from '../tests/fixtures/records';

/**
 * Non-negative embeddings like pooled ReLU features: a shared positive base, plus class centres
 * and per-item variation in one shared low-rank subspace (as photo embeddings vary along a few
 * directions that also separate the classes), plus a little isotropic noise. `signal` 0.85 gives the
 * heads about the accuracy they reach on real photos (KNN ~0.7, dense a few points more; README,
 * flowers5-dev), so early stopping ends about where it does on real data.
 */
function syntheticEmbeddings(
  n: number,
  dim: number,
  classes: number,
  signal: number,
): LabelledEmbedding[] {
  const rank = 48;
  const rng = mulberry32(7);
  const base = Float32Array.from({ length: dim }, () => Math.abs(randomNormal(rng)) * 0.5);
  const basis = Array.from({ length: rank }, () =>
    Float32Array.from({ length: dim }, () => randomNormal(rng) * 0.05),
  );
  const centres = Array.from({ length: classes }, () =>
    Array.from({ length: rank }, () => randomNormal(rng) * 0.35 * signal),
  );
  return Array.from({ length: n }, (_, i) => {
    const c = i % classes;
    const r = mulberry32(deriveSeed(11, i));
    const centre = centres[c] ?? [];
    const mix = centre.map((v) => v + randomNormal(r));
    const embedding = Float32Array.from({ length: dim }, (_, d) => {
      let v = (base[d] ?? 0) + randomNormal(r) * 0.05;
      for (let j = 0; j < rank; j++) v += (mix[j] ?? 0) * (basis[j]?.[d] ?? 0);
      return Math.max(0, v);
    });
    return { id: `s${i}`, embedding, labelIds: [`c${c}`] };
  });
}

const secs = (ms: number): number => Math.round(ms / 10) / 100;

/** Runs `f`, returning its result with wall and CPU seconds. */
async function timed<T>(f: () => Promise<T>): Promise<{ value: T; wallS: number; cpuS: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await f();
  const used = process.cpuUsage(cpu);
  return {
    value,
    wallS: secs(performance.now() - started),
    cpuS: secs((used.user + used.system) / 1000),
  };
}

/** Epoch counts and mean wall seconds per epoch of a run's search and refit phases. */
function epochStats(stamps: { log: EpochLog; at: number }[], started: number) {
  const search = stamps.filter((s) => s.log.phase === undefined);
  const refit = stamps.filter((s) => s.log.phase === 'refit');
  const searchEnd = search.at(-1)?.at ?? started;
  const perEpoch = (list: typeof stamps, from: number): number =>
    list.length === 0 ? 0 : secs(((list.at(-1)?.at ?? from) - from) / list.length);
  return {
    searchEpochs: search.length,
    refitEpochs: refit.length,
    searchEpochS: perEpoch(search, started),
    refitEpochS: perEpoch(refit, searchEnd),
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string', default: '5000' },
      dim: { type: 'string', default: '1280' },
      classes: { type: 'string', default: '5' },
      signal: { type: 'string', default: '0.85' },
      parts: { type: 'string', default: 'train,knn,cv-dense,cv-logreg' },
      backend: { type: 'string', default: 'wasm' },
      /** Dense settings over the defaults, JSON (train and cv-dense). */
      config: { type: 'string', default: '{}' },
    },
  });
  const n = Number(values.n);
  const dim = Number(values.dim);
  const classes = Number(values.classes);
  const parts = values.parts.split(',');
  const config = JSON.parse(values.config) as Partial<DenseConfig>;
  await tf.setBackend(values.backend);
  await tf.ready();
  const labels = Array.from({ length: classes }, (_, c) => `c${c}`);
  const items = byPosition(syntheticEmbeddings(n, dim, classes, Number(values.signal)));
  const { items: indexed } = indexItems(items, 'single-label', labels);
  const report = (part: string, data: Record<string, unknown>): void => {
    console.log(JSON.stringify({ part, n, dim, backend: tf.getBackend(), ...data }));
  };
  const firstFold = (): { train: LabelledEmbedding[]; validation: LabelledEmbedding[] } => {
    const trainIds = new Set(kFoldSplit(indexed, { folds: 5, seed: EVAL_SEED })[0]?.train ?? []);
    return {
      train: items.filter((i) => trainIds.has(i.id)),
      validation: items.filter((i) => !trainIds.has(i.id)),
    };
  };
  const baseline = tf.memory().numTensors;

  if (parts.includes('train')) {
    const held = new Set(holdoutSplit(indexed, { seed: EVAL_SEED }).validation);
    const train = items.filter((i) => !held.has(i.id));
    const validation = items.filter((i) => held.has(i.id));
    const stamps: { log: EpochLog; at: number }[] = [];
    let heldOutAccuracy = 0;
    const started = performance.now();
    const run = await timed(async () => {
      const result = await trainDenseHead(train, {
        kind: 'single-label',
        labels,
        config,
        validation,
        refitOn: {
          items,
          beforeRefit: async (searched) => {
            const score = await scoreHead(searched, validation, labels, 'single-label');
            heldOutAccuracy = headlineScore(score.metrics);
          },
        },
        onEpoch: (log) => stamps.push({ log, at: performance.now() }),
      });
      result.head?.dispose();
    });
    report('train', {
      wallS: run.wallS,
      cpuS: run.cpuS,
      heldOutAccuracy,
      ...epochStats(stamps, started),
    });
  }

  if (parts.includes('knn')) {
    const { train, validation } = firstFold();
    const k = await timed(() =>
      chooseK(byPosition(train), { kind: 'single-label', folds: 5, seed: EVAL_SEED }),
    );
    const scored = await timed(async () => {
      const knn = KnnHead.build(train, {
        kind: 'single-label',
        labels,
        config: { k: k.value.k },
      });
      try {
        return await scoreHead(knn, validation, labels, 'single-label');
      } finally {
        knn.dispose();
      }
    });
    report('knn', {
      chooseKWallS: k.wallS,
      chooseKCpuS: k.cpuS,
      k: k.value.k,
      buildPredictWallS: scored.wallS,
      accuracy: headlineScore(scored.value.metrics),
    });
  }

  for (const part of ['cv-dense', 'cv-logreg'] as const) {
    if (!parts.includes(part)) continue;
    const { train, validation } = firstFold();
    const stamps: { log: EpochLog; at: number }[] = [];
    const started = performance.now();
    const run = await timed(async () => {
      const result = await trainDenseHead(train, {
        kind: 'single-label',
        labels,
        config: part === 'cv-logreg' ? { hiddenUnits: 0, dropout: 0 } : config,
        onEpoch: (log) => stamps.push({ log, at: performance.now() }),
      });
      if (!result.head) throw new Error('aborted');
      try {
        return await scoreHead(result.head, validation, labels, 'single-label');
      } finally {
        result.head.dispose();
      }
    });
    report(part, {
      wallS: run.wallS,
      cpuS: run.cpuS,
      accuracy: headlineScore(run.value.metrics),
      ...epochStats(stamps, started),
    });
  }

  if (parts.includes('compare')) {
    const db = await openLoupeDb();
    const projectId = (await createProject(db, 'bench')).id;
    const batch = items.map((item) => newSample(projectId, { labelIds: [...item.labelIds] }));
    await insertSamples(db, batch);
    const key = 'bench-backbone@centre-crop#1';
    await putEmbeddings(
      db,
      batch.map((b, i) => ({
        projectId,
        sampleId: b.sample.id,
        embeddingKey: key,
        vector: items[i]?.embedding ?? new Float32Array(dim),
        createdAt: 1,
      })),
    );
    const heads = await ProjectHeads.open(db, {
      projectId,
      embeddingKey: key,
      backboneId: 'bench-backbone',
      kind: 'single-label',
    });
    await heads.setHeadSettings({ ...DEFAULT_HEAD_SETTINGS, k: 'auto' });
    const run = await timed(() =>
      compareHeads(db, heads, { labelOrder: labels, signal: new AbortController().signal }),
    );
    report('compare', {
      wallS: run.wallS,
      cpuS: run.cpuS,
      rows: run.value.map((r) => ({ head: r.head, accuracy: Number(r.accuracy.toFixed(3)) })),
    });
    heads.dispose();
    db.close();
  }
  report('tensors', { leftOver: tf.memory().numTensors - baseline });
}
