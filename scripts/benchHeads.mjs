#!/usr/bin/env node
// `npm run bench:heads -- [--n 5000] [--dim 1280] [--classes 5] [--parts train,knn,cv-dense,cv-logreg]
// [--backend wasm]`: timing of the heads at scale on synthetic clustered embeddings, fed straight
// into the dense training, auto k, KNN and one cross-validation fold of each trained head (no
// images, no IndexedDB, no browser). Bundles scripts/benchHeads.ts and the src/ code it imports with
// rolldown into .tmp/ (as Vite bundles the app, TF.js left external) and runs it in Node on the
// wasm backend, the one the app's engine uses on a 2-core machine without a GPU. Prints one JSON
// line per part (wall and CPU seconds, epochs, accuracy). Synthetic data: see benchHeads.ts.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(ROOT, '.tmp', 'benchHeads.mjs');
mkdirSync(path.dirname(out), { recursive: true });
await build({
  input: path.join(ROOT, 'scripts', 'benchHeads.ts'),
  platform: 'node',
  external: [/^@tensorflow\//],
  output: { file: out, format: 'esm' },
  logLevel: 'warn',
});
const { main } = await import(pathToFileURL(out).href);
await main(process.argv.slice(2));
