/**
 * Public API of export/import formats: the `.loupe` project archive (export, and the one restore
 * door, which reads and validates; core/storage's `writeRestoredProject` writes the result), the
 * folder-per-label dataset zip, binaryJson, and the errors and limits of archive import. Plain
 * TypeScript; runs in pages, Web Workers and Node.
 */
export { exportProjectArchive } from './archive';
export type { ArchiveCounts, ArchiveProgress, ExportArchiveOptions } from './archive';
export { readProjectArchive } from './restore';
export type {
  ArchiveExtras,
  ReadArchiveOptions,
  RestoredProject,
  RestoreProgress,
} from './restore';
export { ARCHIVE_MIGRATIONS, OLDEST_ARCHIVE_VERSION, migrateArchive } from './migrations';
export type { ArchiveDocuments, ArchiveMigration, MigrationResult } from './migrations';
export {
  ARCHIVE_EXTENSION,
  ARCHIVE_MIME,
  ARCHIVE_TYPE,
  ARCHIVE_VERSION,
  LOUPE_VERSION,
  archiveFileName,
} from './layout';
export {
  LABELS_CSV,
  UNLABELLED_FOLDER,
  csvField,
  csvRow,
  datasetFileName,
  exportDataset,
  resolveSplits,
} from './dataset';
export type { DatasetProgress, ExportDatasetOptions, SplitSpec } from './dataset';
export {
  BINARY_DTYPES,
  collectBinaryPaths,
  decodeBinaryJson,
  encodeBinaryJson,
  typedArrayDtype,
} from './binaryJson';
export type {
  BinaryBlob,
  BinaryDtype,
  BinaryRef,
  DecodeOptions,
  EncodeOptions,
  EncodedBinaryJson,
  SupportedTypedArray,
  TypedArrayDtype,
} from './binaryJson';
export { ArchiveError, DEFAULT_ARCHIVE_LIMITS, resolveLimits } from './errors';
export type { ArchiveErrorCode, ArchiveLimits } from './errors';
export type { JsonObject, JsonPrimitive, JsonValue } from './json';
