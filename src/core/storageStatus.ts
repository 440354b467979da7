/**
 * What the browser says about this site's storage: usage and quota (`navigator.storage.estimate`)
 * and whether it is persistent (`navigator.storage.persisted`), read through a minimal interface so
 * it runs, and is tested, without a browser. Non-persistent storage may be evicted by the browser
 * when space runs low; `describeStorage` says so.
 */
import { formatBytes } from './imageio/validate';

/** The parts of `StorageManager` used here; each may be missing (older browsers, insecure pages). */
export interface StorageApi {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

export interface StorageFacts {
  /** Bytes used by this site, or null when unknown. */
  usage: number | null;
  /** Bytes this site may use, or null when unknown. */
  quota: number | null;
  /** Whether the browser promised not to evict the data; null when it cannot say. */
  persisted: boolean | null;
}

const orNull = async <T>(read: (() => Promise<T>) | undefined): Promise<T | null> => {
  if (!read) return null;
  try {
    return await read();
  } catch {
    return null;
  }
};

export async function readStorageFacts(storage: StorageApi | undefined): Promise<StorageFacts> {
  const [estimate, persisted] = await Promise.all([
    orNull(storage?.estimate?.bind(storage)),
    orNull(storage?.persisted?.bind(storage)),
  ]);
  const bytes = (n: number | undefined): number | null =>
    typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
  return { usage: bytes(estimate?.usage), quota: bytes(estimate?.quota), persisted };
}

/** Asks the browser again to keep the data; resolves whether storage is now persistent. */
export async function requestPersistence(storage: StorageApi | undefined): Promise<boolean> {
  return (await orNull(storage?.persist?.bind(storage))) === true;
}

/** E.g. "12.5 MB of 2 GB used (1 %)". */
export function describeUsage(facts: StorageFacts): string {
  if (facts.usage === null) return 'usage unknown';
  if (facts.quota === null || facts.quota === 0) return `${formatBytes(facts.usage)} used`;
  const percent = Math.min(100, Math.round((facts.usage / facts.quota) * 100));
  return `${formatBytes(facts.usage)} of ${formatBytes(facts.quota)} used (${percent} %)`;
}

/** What persistence means for the user's data, in one sentence. */
export function describePersistence(persisted: boolean | null): string {
  if (persisted === true) return 'Persistent: the browser keeps this data until you delete it.';
  if (persisted === false)
    return (
      'Not persistent: the browser may delete this data when the disk runs low. ' +
      'Export project archives to keep a copy.'
    );
  return 'This browser does not say whether it keeps the data: export project archives to keep a copy.';
}
