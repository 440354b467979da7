/**
 * The engine worker's live heads of the open project, and how they are (re)built:
 * - one open at a time (calls queue), so two reopens never build two heads and leak one;
 * - built before they are swapped in, while the old heads keep answering; embedding batches and
 *   label changes that arrive meanwhile reach both (`apply`), because the new heads may have read
 *   the database before those were written;
 * - `reload` rebuilds heads for the same project (another tab trained, embedded, restored or
 *   replaced records), which an ordinary open skips;
 * - replaced heads, and dense heads swapped out of live ones, are disposed only once no job runs
 *   (`sweep`), since a classification, an export or an explanation may still hold them.
 */
import type { HeadsTarget } from './headsService';
import { ProjectHeads } from './headsService';
import type { LoupeDatabase } from '../core/storage/db';

type Change = (heads: ProjectHeads) => void;

export class HeadsHolder {
  private live: ProjectHeads | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Changes seen while heads are being built, with the project they were meant for. */
  private pending: { projectId: string; embeddingKey: string; change: Change }[] | null = null;
  private readonly retired: { dispose(): void }[] = [];
  /** What is being built now, if anything. */
  private building: HeadsTarget | null = null;
  /** Opens called and not yet settled. */
  private opens = 0;

  constructor(
    private readonly db: () => Promise<LoupeDatabase>,
    /** True while any job runs (it may hold the heads it started with). */
    private readonly busy: () => boolean,
  ) {}

  get current(): ProjectHeads | null {
    return this.live;
  }

  /** The heads for `target`: the current ones when they match (and no reload is asked). */
  open(target: HeadsTarget, reload = false): Promise<ProjectHeads> {
    // Changes are collected from the call on (replaying one already read is harmless: adds
    // replace, label changes set); the buffer goes when no open is left.
    this.pending ??= [];
    this.opens++;
    const run = async (): Promise<ProjectHeads> => {
      try {
        return await this.build(target, reload);
      } finally {
        if (--this.opens === 0) this.pending = null;
      }
    };
    const opened = this.queue.then(run, run);
    this.queue = opened.catch(() => undefined);
    return opened;
  }

  private async build(target: HeadsTarget, reload: boolean): Promise<ProjectHeads> {
    const now = this.live;
    if (now && !reload && matches(now, target)) return now;
    this.building = target;
    let fresh: ProjectHeads;
    try {
      fresh = await ProjectHeads.open(await this.db(), target);
      // The same project rebuilt: its settings carry over (the caller may set others after).
      if (now?.projectId === fresh.projectId) await fresh.setHeadSettings(now.settings);
    } finally {
      this.building = null;
    }
    for (const p of this.pending ?? []) {
      if (p.projectId === fresh.projectId && p.embeddingKey === fresh.embeddingKey) p.change(fresh);
    }
    // Synchronous from here: nothing can reach the old heads that the new ones miss.
    if (now?.projectId === fresh.projectId) fresh.adoptTryEmbedding(now);
    if (now) this.retire(now);
    this.live = fresh;
    return fresh;
  }

  /**
   * Applies a change (embeddings, label changes) to the current heads when they are for
   * `projectId` and `embeddingKey` (any, when omitted), and to heads being built for them.
   */
  apply(change: Change, projectId?: string, embeddingKey?: string): void {
    const now = this.live;
    const project = projectId ?? now?.projectId ?? this.building?.projectId;
    const key = embeddingKey ?? now?.embeddingKey ?? this.building?.embeddingKey;
    if (project === undefined || key === undefined) return;
    if (now && now.projectId === project && now.embeddingKey === key) change(now);
    this.pending?.push({ projectId: project, embeddingKey: key, change });
  }

  close(): void {
    if (this.live) this.retire(this.live);
    this.live = null;
  }

  /** Disposes replaced heads (and replaced parts of them) once no job runs. */
  sweep(): void {
    if (this.busy()) return;
    for (const replaced of this.retired.splice(0)) replaced.dispose();
  }

  /** Disposes `replaced` (heads, or a dense head swapped out of them) once no job runs. */
  retire(replaced: { dispose(): void }): void {
    this.retired.push(replaced);
    this.sweep();
  }
}

function matches(heads: ProjectHeads, target: HeadsTarget): boolean {
  return (
    heads.projectId === target.projectId &&
    heads.embeddingKey === target.embeddingKey &&
    heads.kind === target.kind
  );
}
