// The one Chromium launch used by e2e tests, the benchmark and the eval script: Debian's
// /usr/bin/chromium (never a downloaded browser), headless, no network chatter, SwiftShader WebGL.
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
