/**
 * Side-effect wiring for the store: the database connection and the import runner. The app uses
 * the real IndexedDB and the import worker; unit tests inject fake-indexeddb and an in-process runner.
 */
import type { ImportReport } from '../core/dataset/importer';
import type { LoupeDatabase } from '../core/storage/db';
import type { ImportCall } from '../worker/dataBridge';
import type { EngineClient } from '../worker/engineBridge';
import type * as Comlink from 'comlink';
import type { DataWorkerApi } from '../worker/data.worker';

export interface Services {
  db(): Promise<LoupeDatabase>;
  runImport(call: ImportCall): Promise<ImportReport>;
  /** The engine worker (tensors). Absent in unit tests that exercise storage-only actions. */
  engine?: EngineClient;
  /** The data worker (archives, dataset zips). Absent in unit tests. */
  data?: () => Comlink.Remote<DataWorkerApi>;
}
