// Serves the production build with `vite preview` (same headers as production) for the e2e run.
import { preview, type PreviewServer } from 'vite';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

let server: PreviewServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  // LOUPE_DIST serves another build folder (e.g. while a benchmark is using dist/).
  const outDir = process.env.LOUPE_DIST ?? 'dist';
  if (!existsSync(`${outDir}/index.html`)) {
    throw new Error(`No build in ${outDir}/: run \`npm run build\` before the e2e tests.`);
  }
  server = await preview({
    build: { outDir },
    preview: { port: 0, strictPort: false, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  project.provide('baseUrl', url.replace(/\/$/, ''));
}

export async function teardown(): Promise<void> {
  await server?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
