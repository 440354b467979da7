/**
 * Preprocessing worker, started by the engine worker: reads stored samples (or takes the files of
 * a batch classification), decodes and preprocesses them (the one preprocessing function) and
 * hands the pixels over by transfer, so the next batches are prepared on another core while the
 * engine runs the model on this one.
 */
import * as Comlink from 'comlink';
import type { AugmentView } from '../core/backbone/augment';
import type { AspectMode } from '../core/backbone/types';
import { lazyDatabase } from '../core/storage/db';
import { decodeBatch, type Decoded } from './decodeBatch';
import type { BatchFile } from './api';
import { decodeFiles, type DecodedFiles } from './decodeFiles';

const db = lazyDatabase();

const api = {
  async prepare(
    ids: string[],
    size: number,
    mode: AspectMode,
    view: AugmentView,
  ): Promise<Decoded> {
    const decoded = await decodeBatch(await db(), ids, size, mode, view);
    // Plain {data, width, height} records whose buffers move to the engine without a copy.
    const pixels = decoded.pixels.map((p) => ({ data: p.data, width: p.width, height: p.height }));
    return Comlink.transfer(
      { ...decoded, pixels },
      pixels.map((p) => p.data.buffer as ArrayBuffer),
    );
  },

  /** The same for files that are not stored (batch classification), handed over the same way. */
  async prepareFiles(files: BatchFile[], size: number, mode: AspectMode): Promise<DecodedFiles> {
    const decoded = await decodeFiles(files, size, mode);
    const pixels = decoded.pixels.map((p) => ({ data: p.data, width: p.width, height: p.height }));
    return Comlink.transfer(
      { ...decoded, pixels },
      pixels.map((p) => p.data.buffer as ArrayBuffer),
    );
  },
};

export type PreprocessWorkerApi = typeof api;
Comlink.expose(api);
