/**
 * Archive format migrations: the table that brings the JSON documents of an older `.loupe`
 * archive up to the current format version, one step at a time, before anything is validated.
 * A new format version adds one entry here (and a test with an archive of the old shape).
 */
import { ArchiveError } from './errors';
import { isJsonObject, own, type JsonObject, type JsonValue } from './json';
import { ARCHIVE_VERSION } from './layout';

/** The JSON documents of an archive, as parsed (binary references still unresolved). */
export interface ArchiveDocuments {
  manifest: JsonObject;
  /** project.json */
  project: JsonValue;
  /** samples.json */
  samples: JsonValue;
  /** embeddings/index.json, or null when the archive has none. */
  embeddings: JsonValue | null;
  /** models/index.json, or null when the archive has none. */
  models: JsonValue | null;
  /** Each model document, by entry path (as listed in models/index.json). */
  modelDocuments: Map<string, JsonValue>;
}

export interface ArchiveMigration {
  /** Format version this step reads. */
  from: number;
  /** Format version it produces (always from + 1). */
  to: number;
  description: string;
  migrate(documents: ArchiveDocuments): ArchiveDocuments;
}

/**
 * Version 0 was the pre-release draft layout: like version 1, but each sample carried one
 * `labelId` (string or null), as IndexedDB schema version 1 did, instead of `labelIds`.
 */
const v0ToV1: ArchiveMigration = {
  from: 0,
  to: 1,
  description: 'samples: one labelId -> labelIds[]',
  migrate(documents) {
    const samplesDoc = documents.samples;
    if (!isJsonObject(samplesDoc)) return documents;
    const list = own(samplesDoc, 'samples');
    if (!Array.isArray(list)) return documents;
    const samples = list.map((sample): JsonValue => {
      if (!isJsonObject(sample) || Object.hasOwn(sample, 'labelIds')) return sample;
      const { labelId, ...rest } = sample;
      return { ...rest, labelIds: typeof labelId === 'string' && labelId ? [labelId] : [] };
    });
    return { ...documents, samples: { ...samplesDoc, samples } };
  },
};

export const ARCHIVE_MIGRATIONS: readonly ArchiveMigration[] = [v0ToV1];

/** Oldest format version the migration table can bring up to date. */
export const OLDEST_ARCHIVE_VERSION = Math.min(
  ARCHIVE_VERSION,
  ...ARCHIVE_MIGRATIONS.map((m) => m.from),
);

/** Throws 'newer-version' for an archive written by a newer Loupe than this one. */
export function assertNotNewer(version: number, target: number = ARCHIVE_VERSION): void {
  if (version > target) {
    throw new ArchiveError(
      'newer-version',
      `This archive was made by a newer Loupe (format version ${version}; this app reads up to ` +
        `${target}). Update Loupe to open it.`,
    );
  }
}

export interface MigrationResult {
  documents: ArchiveDocuments;
  /** Descriptions of the steps applied, oldest first (empty for a current archive). */
  applied: string[];
}

/**
 * Runs every step from `version` up to ARCHIVE_VERSION. Throws 'newer-version' for archives
 * from a newer Loupe and 'unsupported-version' for versions no step starts from.
 */
export function migrateArchive(
  documents: ArchiveDocuments,
  version: number,
  migrations: readonly ArchiveMigration[] = ARCHIVE_MIGRATIONS,
  target: number = ARCHIVE_VERSION,
): MigrationResult {
  assertNotNewer(version, target);
  const applied: string[] = [];
  let current = documents;
  for (let v = version; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step || step.to !== v + 1) {
      throw new ArchiveError(
        'unsupported-version',
        `This archive uses format version ${version}, which this Loupe cannot read.`,
      );
    }
    current = step.migrate(current);
    applied.push(`v${step.from} -> v${step.to}: ${step.description}`);
  }
  return { documents: current, applied };
}
