/**
 * TF.js backend selection inside the engine worker. Probes webgpu, webgl, wasm (SIMD, threads) and
 * cpu; a software GPU (SwiftShader, llvmpipe, WARP, a WebGPU fallback adapter) is reported but not
 * timed, since it is always several times slower than wasm; each remaining backend is timed on a
 * warm-up of the real backbone, and the fastest wins. The choice is remembered by the caller.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface BackendReport {
  name: BackendName;
  available: boolean;
  /** Renderer / adapter, SIMD and threads: what the device actually offers. */
  detail: string;
  software: boolean;
  /** Images per second of the backbone forward pass during the probe (null when not timed). */
  imgPerSec: number | null;
  error?: string;
}

let wasmConfigured = false;
let webgpuRegistered: Promise<void> | null = null;

function configureWasm(): void {
  if (wasmConfigured) return;
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  wasmConfigured = true;
}

async function registerWebgpu(): Promise<void> {
  webgpuRegistered ??= import('@tensorflow/tfjs-backend-webgpu').then(() => undefined);
  return webgpuRegistered;
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|microsoft basic render|warp/i;

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string };
}

async function describeWebgpu(): Promise<{ detail: string; software: boolean } | null> {
  const gpu = (
    navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }
  ).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const detail =
    [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') ||
    'unknown adapter';
  return { detail, software: !!adapter.isFallbackAdapter || SOFTWARE_RENDERERS.test(detail) };
}

function describeWebgl(): { detail: string; software: boolean } {
  const backend = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
  const gl = backend.gpgpu?.gl;
  if (!gl) return { detail: 'unknown renderer', software: false };
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(
    ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
  );
  return { detail: renderer, software: SOFTWARE_RENDERERS.test(renderer) };
}

function describeWasm(): string {
  const env = tf.env();
  const simd = env.getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = env.getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  // XNNPACK's pool size (tfjs: half the logical cores, at least 1; 1 on a 2-core machine).
  let count = 1;
  try {
    count = getThreadsCount();
  } catch {
    // Not initialised yet: the count is unknown, the flags still say what the browser allows.
  }
  return `SIMD ${simd ? 'on' : 'off'}, threads ${threads ? `on (${count})` : 'off (needs cross-origin isolation)'}`;
}

/** Switches TF.js to `name`; false when this device cannot run it. */
export async function useBackend(name: BackendName): Promise<boolean> {
  if (name === 'wasm') configureWasm();
  if (name === 'webgpu') {
    // Ask for an adapter first: without one tfjs would log a failed initialisation.
    if (!(await describeWebgpu().catch(() => null))) return false;
    try {
      await registerWebgpu();
    } catch {
      return false;
    }
  }
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

export async function describeBackend(
  name: BackendName,
): Promise<{ detail: string; software: boolean }> {
  switch (name) {
    case 'webgl':
      return describeWebgl();
    case 'webgpu':
      return (await describeWebgpu()) ?? { detail: 'no adapter', software: false };
    case 'wasm':
      return { detail: describeWasm(), software: false };
    default:
      return { detail: 'pure JavaScript', software: false };
  }
}

/**
 * Probes every backend; `time(name)` measures the backbone on the active backend and returns
 * images/s. Software GPUs are not timed; cpu is timed only when nothing else works.
 */
export async function probeBackends(
  time: (name: BackendName) => Promise<number>,
  options: { timeSoftware?: boolean } = {},
): Promise<{ reports: BackendReport[]; chosen: BackendName }> {
  const reports: BackendReport[] = [];
  for (const name of BACKEND_ORDER) {
    const report: BackendReport = {
      name,
      available: false,
      detail: '',
      software: false,
      imgPerSec: null,
    };
    reports.push(report);
    if (!(await useBackend(name))) {
      report.detail = 'not available on this device';
      continue;
    }
    report.available = true;
    try {
      Object.assign(report, await describeBackend(name));
      const anyFaster = reports.some((r) => r.imgPerSec !== null);
      const skip = (report.software && !options.timeSoftware) || (name === 'cpu' && anyFaster);
      if (!skip) report.imgPerSec = await time(name);
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
    }
  }
  const timed = reports.filter((r) => r.imgPerSec !== null);
  timed.sort((a, b) => (b.imgPerSec ?? 0) - (a.imgPerSec ?? 0));
  const chosen =
    timed[0]?.name ?? reports.find((r) => r.available && r.name === 'wasm')?.name ?? 'cpu';
  return { reports, chosen };
}
