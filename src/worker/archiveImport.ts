/**
 * Project-archive imports on the data worker's side, without holding an archive in memory:
 * `measure` sums the declared uncompressed sizes (the room check before a restore); `inspect`
 * vets the archive and streams its records into an invisible staging (core/formats/restore.ts,
 * core/storage/stagedRestore.ts) while it reads; `finish` makes the staged project visible in one
 * transaction; `dismiss` (or a failed or cancelled inspection) deletes the staging. One archive is
 * staged at a time. Each staging holds a Web Lock named after it while it exists, so the stale
 * staging check run once per worker (`dropStaleStaging`) removes only what a closed or reloaded
 * tab left behind, never what another tab is writing.
 */
import { openProjectArchive, type ReadArchiveOptions } from '../core/formats/restore';
import { streamArchiveContents } from '../core/formats/restoreStream';
import { resolveLimits } from '../core/formats/errors';
import { readZipIndex } from '../core/formats/zipReader';
import { newId } from '../core/ids';
import type { LoupeDatabase } from '../core/storage/db';
import { findNameConflict } from '../core/storage/projects';
import type { RestoreOptions } from '../core/storage/restoreProject';
import { dropStaleStaging, StagedRestore } from '../core/storage/stagedRestore';
import type { ProjectRecord } from '../core/storage/schema';
import type { ArchiveSummary } from './api';

const LOCK_PREFIX = 'loupe-archive-staging:';

interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[]; pending?: { name?: string }[] }>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/** Holds the lock `name` until the returned function is called (no-op without Web Locks). */
async function holdLock(name: string): Promise<() => void> {
  const locks = lockManager();
  if (!locks) return () => undefined;
  return new Promise((acquired) => {
    void locks.request(name, () => new Promise<void>((release) => acquired(() => release())));
  });
}

interface Staged {
  token: string;
  restore: StagedRestore;
  release: () => void;
}

export interface ArchiveImports {
  /** Removes stagings left behind by closed or reloaded tabs; runs once, later calls share it. */
  sweep(database: LoupeDatabase): Promise<unknown>;
  measure(file: Blob): Promise<number>;
  inspect(
    file: Blob,
    signal: AbortSignal,
    onProgress: ReadArchiveOptions['onProgress'],
  ): Promise<ArchiveSummary>;
  finish(token: string, options: RestoreOptions): Promise<ProjectRecord>;
  dismiss(token: string): Promise<void>;
}

export function archiveImports(db: () => Promise<LoupeDatabase>): ArchiveImports {
  let staged: Staged | null = null;
  /** Staging ids this worker is writing or holds. */
  const live = new Set<string>();
  let swept: Promise<unknown> | null = null;

  const sweep = (database: LoupeDatabase): Promise<unknown> =>
    (swept ??= dropStaleStaging(database, async () => {
      const held = new Set(live);
      const state = await lockManager()?.query();
      for (const lock of [...(state?.held ?? []), ...(state?.pending ?? [])]) {
        if (lock.name?.startsWith(LOCK_PREFIX)) held.add(lock.name.slice(LOCK_PREFIX.length));
      }
      return held;
    }).catch(() => undefined));

  const drop = async (entry: Staged): Promise<void> => {
    try {
      await entry.restore.discard();
    } finally {
      live.delete(entry.restore.id);
      entry.release();
    }
  };

  return {
    sweep,

    async measure(file) {
      const index = await readZipIndex(file, resolveLimits());
      let total = 0;
      for (const entry of index.entries.values()) total += entry.size;
      return total;
    },

    async inspect(file, signal, onProgress) {
      const database = await db();
      await sweep(database);
      if (staged) {
        // One archive at a time: a newer inspection replaces one that was never imported.
        const previous = staged;
        staged = null;
        await drop(previous);
      }
      const opened = await openProjectArchive(file, {
        signal,
        ...(onProgress ? { onProgress } : {}),
      });
      const id = newId();
      live.add(id);
      const release = await holdLock(LOCK_PREFIX + id);
      let restore: StagedRestore | null = null;
      try {
        restore = await StagedRestore.begin(
          database,
          {
            project: opened.project,
            labels: opened.labels,
            sampleIds: opened.samples.map((s) => s.record.id),
            backboneFiles: opened.backboneFiles,
          },
          id,
        );
        const stage = restore;
        const { models } = await streamArchiveContents(
          opened,
          (batch) => stage.write(batch),
          opened.warnings,
          { signal },
        );
        const conflict = await findNameConflict(database, opened.project.name);
        signal.throwIfAborted();
        const token = crypto.randomUUID();
        staged = { token, restore: stage, release };
        return {
          token,
          name: opened.project.name,
          images: opened.samples.length,
          labels: opened.labels.length,
          models,
          warnings: opened.warnings,
          conflict: conflict ? { id: conflict.id, name: conflict.name } : null,
        };
      } catch (error) {
        // Whatever was staged goes; what a failed delete leaves, a later sweep removes.
        await restore?.discard().catch(() => undefined);
        live.delete(id);
        release();
        throw error;
      }
    },

    async finish(token, options) {
      if (!staged || staged.token !== token) {
        throw new Error('The archive is no longer loaded; choose the file again.');
      }
      const entry = staged;
      const project = await entry.restore.finish(options);
      staged = null;
      live.delete(entry.restore.id);
      entry.release();
      return project;
    },

    async dismiss(token) {
      if (!staged || staged.token !== token) return;
      const entry = staged;
      staged = null;
      await drop(entry);
    },
  };
}
