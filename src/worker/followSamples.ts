/**
 * New samples for a running embedding job (`EmbedJob.more`): the project's sample ids not yet
 * known to the job, read as keys only (no sample record, no blob). Samples whose import-time input
 * has reached the engine come first, in the order the import stored them (the pipeline then takes
 * the oldest inputs first, as the held inputs expect). When only samples without an input are new,
 * their input may still be on its way from the page, so the follower waits a moment and looks
 * again before handing them over (the pipeline decodes whatever still has none).
 */
import type { LoupeDatabase } from '../core/storage/db';

export interface FollowOptions {
  /** Ids the job already has (filled in as ids are handed over). */
  known: Set<string>;
  /** The import-time inputs the engine holds (their ids, oldest first). */
  prepared: { heldIds(): Iterable<string> };
  /** How long to wait for inputs still on their way (default 250 ms). */
  waitMs?: number;
  signal?: AbortSignal;
}

export function followSamples(
  db: LoupeDatabase,
  projectId: string,
  options: FollowOptions,
): () => Promise<string[]> {
  const { known, prepared, waitMs = 250, signal } = options;
  const unknownIds = async (): Promise<string[]> =>
    (await db.getAllKeysFromIndex('samples', 'byProject', projectId)).filter(
      (id) => !known.has(id),
    );
  const withInput = (ids: readonly string[]): string[] => {
    const fresh = new Set(ids);
    return [...prepared.heldIds()].filter((id) => fresh.has(id));
  };
  return async () => {
    let ids = await unknownIds();
    if (ids.length === 0) return [];
    let ready = withInput(ids);
    if (ready.length === 0 && waitMs > 0 && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      ids = await unknownIds();
      ready = withInput(ids);
    }
    const take = ready.length > 0 ? ready : ids;
    for (const id of take) known.add(id);
    return take;
  };
}
