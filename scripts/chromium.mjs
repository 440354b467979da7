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
