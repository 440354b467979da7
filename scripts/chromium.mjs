// The one Chromium launch used by e2e tests, the benchmark and the eval script: Debian's
// /usr/bin/chromium (never a downloaded browser), headless, no network chatter, SwiftShader WebGL;
// plus `useBuiltinBackbone`, the backbone switch the eval and bench scripts share.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

/**
 * Builds the app into `outDir` (unless `noBuild` and a build is there), serves it with
 * `vite preview` on a free port and opens a fresh Chromium profile at 1280x900: the session that
 * `npm run eval` and `npm run screenshot` drive. `close()` ends all three.
 */
export async function openAppSession({ outDir, noBuild, profilePrefix, log }) {
  const { existsSync, mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { chromium } = await import('playwright-core');
  const { build, preview } = await import('vite');
  if (!noBuild || !existsSync(path.join(outDir, 'index.html'))) {
    log('building into', outDir);
    await build({ logLevel: 'warn', build: { outDir } });
  }
  const server = await preview({
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1' },
    logLevel: 'warn',
  });
  const baseUrl = server.resolvedUrls.local[0].replace(/\/$/, '');
  const profile = mkdtempSync(path.join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  return {
    baseUrl,
    context,
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Switches the open project (a page with `?debug=1`) to the built-in backbone `id` and waits until
 * it is active; with nothing to embed, that is once the engine has loaded it.
 */
export async function useBuiltinBackbone(page, id) {
  await page.evaluate(async (id) => {
    const { store, builtinBackbone, backboneSpec } = window.__loupe;
    const spec = builtinBackbone(id);
    if (!spec) throw new Error(`unknown backbone ${id}`);
    if (backboneSpec()?.id === id) return;
    const { aspectMode } = store.getState().project.settings;
    await store.getState().setBackbone({ spec, aspectMode });
  }, id);
  await page.waitForFunction((id) => window.__loupe.backboneSpec()?.id === id, id, {
    timeout: 300_000,
    polling: 500,
  });
}
