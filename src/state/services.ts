/**
 * Side-effect wiring for the store: the database connection, the import runner and the two worker
 * clients. The app uses the real IndexedDB and workers; unit tests inject fake-indexeddb, an
 * in-process import runner and fake clients.
 */
import type { LoupeDatabase } from '../core/storage/db';
import type { DataClient, EngineClient, ImportCall, ImportReport } from '../worker/api';
import type { StorageApi } from '../core/storageStatus';
import type { TabChannel } from '../core/sync/tabMessages';
import type { LockRequester } from '../core/sync/jobLock';

export interface Services {
  db(): Promise<LoupeDatabase>;
  runImport(call: ImportCall): Promise<ImportReport>;
  /** The engine worker (tensors). Absent in unit tests that exercise storage-only actions. */
  engine?: EngineClient;
  /** The data worker (archives, dataset zips). Absent in unit tests that need none. */
  data?: DataClient;
  /** `navigator.storage` (usage, quota); tests inject a fake. Absent = the browser's own. */
  storage?: StorageApi;
  /** Change events and job progress to and from other tabs. Absent: a lone tab. */
  tabs?: TabChannel;
  /** Web Locks (one job per project across tabs). Absent: every job runs here. */
  locks?: LockRequester | undefined;
}
