// Launches Debian Chromium through playwright-core with a fresh profile, and records every request
// so tests can assert the app never talks to another origin.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../scripts/chromium.mjs';

export { CHROMIUM_ARGS, CHROMIUM_PATH };

export interface Session {
  context: BrowserContext;
  page: Page;
  requests: string[];
  crossOrigin(): string[];
  pageErrors: string[];
  close(): Promise<void>;
}

export async function launch(
  baseUrl: string,
  options: { serviceWorkers?: 'allow' | 'block'; extraArgs?: string[] } = {},
): Promise<Session> {
  const { extraArgs = [], ...contextOptions } = options;
  const profile = mkdtempSync(path.join(tmpdir(), 'loupe-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    ...contextOptions,
  });
  const requests: string[] = [];
  const pageErrors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const origin = new URL(baseUrl).origin;
  return {
    context,
    page,
    requests,
    pageErrors,
    crossOrigin: () =>
      requests.filter(
        (u) => !u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin,
      ),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
