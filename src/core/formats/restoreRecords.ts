/**
 * The records of a project archive's metadata documents, read and checked: the project and its
 * labels (project.json), the samples without their image bytes (samples.json) and the embedding
 * sets without their matrices (embeddings/index.json). Ids stay the archive's; nothing is read
 * from the zip here (see restore.ts).
 */
import { isProjectKind } from '../kinds';
import { sameName } from '../storage/projects';
import type {
  LabelRecord,
  ProjectKind,
  ProjectRecord,
  ProjectSettings,
  SampleRecord,
  SampleSource,
} from '../storage/schema';
import type { ArchivedSample, ArchivedThumbnail, EmbeddingSet } from './entryReader';
import { ArchiveError, type ArchiveLimits } from './errors';
import {
  checkName,
  duplicate,
  type Fields,
  fieldsOf,
  MAX_EMBEDDING_DIM,
  ownValue,
  quote,
} from './fields';
import { EMBEDDINGS_INDEX_PATH, PROJECT_PATH, SAMPLES_PATH } from './layout';

const MAX_SAMPLE_NAME = 1024;

export function readProject(
  doc: Fields,
  limits: ArchiveLimits,
  warnings: string[],
): { project: ProjectRecord; labels: LabelRecord[] } {
  const p = fieldsOf(doc.object('project'), PROJECT_PATH, 'project');
  const kind = p.string('kind', 50);
  if (!isProjectKind(kind)) {
    throw p.invalid(`has kind ${quote(kind)}, which this Loupe does not know`);
  }
  const settingsFields = fieldsOf(p.object('settings'), PROJECT_PATH, 'project.settings');
  const settings: ProjectSettings = {
    ...settingsFields.obj,
    aspectMode: settingsFields.string('aspectMode', 50) as ProjectSettings['aspectMode'],
    backboneId: settingsFields.string('backboneId', 500),
  };
  const project: ProjectRecord = {
    ...p.rest(),
    id: p.id('id'),
    name: checkName(
      p.string('name', Number.MAX_SAFE_INTEGER),
      'project',
      limits,
      warnings,
      PROJECT_PATH,
    ),
    kind: kind as ProjectKind,
    createdAt: p.number('createdAt'),
    updatedAt: p.number('updatedAt'),
    settings,
  };
  const labels: LabelRecord[] = [];
  const ids = new Set<string>();
  doc.array('labels').forEach((value, i) => {
    const l = fieldsOf(value, PROJECT_PATH, `labels[${i}]`);
    const id = l.id('id');
    if (ids.has(id)) throw duplicate(PROJECT_PATH, 'labels', id);
    ids.add(id);
    const name = checkName(
      l.string('name', Number.MAX_SAFE_INTEGER),
      'label',
      limits,
      warnings,
      PROJECT_PATH,
    );
    const clash = labels.find((other) => sameName(other.name, name));
    if (clash) {
      throw new ArchiveError(
        'bad-label',
        `${PROJECT_PATH}: two labels are both named ${quote(name)}.`,
        PROJECT_PATH,
      );
    }
    labels.push({
      ...l.rest(),
      id,
      projectId: project.id,
      name,
      order: l.number('order'),
      createdAt: l.number('createdAt'),
    });
  });
  return { project, labels };
}

export function readSamples(
  doc: Fields,
  project: ProjectRecord,
  labelIds: Set<string>,
): ArchivedSample[] {
  const ids = new Set<string>();
  return doc.array('samples').map((value, i): ArchivedSample => {
    const s = fieldsOf(value, SAMPLES_PATH, `samples[${i}]`);
    const id = s.id('id');
    if (ids.has(id)) throw duplicate(SAMPLES_PATH, 'samples', id);
    ids.add(id);
    const labels = s.array('labelIds').map((l) => {
      if (typeof l !== 'string') throw s.invalid('has a label id that is not text');
      if (!labelIds.has(l)) {
        throw new ArchiveError(
          'unknown-reference',
          `${SAMPLES_PATH}: image ${quote(id)} has label ${quote(l)}, which project.json does not define.`,
          SAMPLES_PATH,
        );
      }
      return l;
    });
    const unique = [...new Set(labels)];
    if (project.kind === 'single-label' && unique.length > 1) {
      throw s.invalid('has several labels in a single-label project');
    }
    const sha256 = s.string('sha256', 64);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw s.invalid('has a malformed "sha256"');
    const record: Omit<SampleRecord, 'blob'> = {
      ...s.rest('image', 'thumbnail'),
      id,
      projectId: project.id,
      labelIds: unique,
      name: s.string('name', MAX_SAMPLE_NAME),
      mime: s.string('mime', 100),
      byteSize: s.count('byteSize'),
      width: s.count('width'),
      height: s.count('height'),
      sha256,
      createdAt: s.number('createdAt'),
      source: s.string('source', 50) as SampleSource,
    };
    if (s.has('relativePath')) record.relativePath = s.string('relativePath');
    const thumbValue = ownValue(s.obj, 'thumbnail');
    let thumbnail: ArchivedThumbnail | null = null;
    if (thumbValue !== undefined && thumbValue !== null) {
      const t = fieldsOf(thumbValue, SAMPLES_PATH, `samples[${i}].thumbnail`);
      thumbnail = {
        path: t.path('path'),
        width: t.count('width'),
        height: t.count('height'),
        extra: t.rest('path', 'mime', 'width', 'height'),
      };
    }
    return { record, image: s.path('image'), thumbnail };
  });
}

export function readEmbeddingIndex(doc: Fields, sampleIds: Set<string>): EmbeddingSet[] {
  const keys = new Set<string>();
  const paths = new Set<string>();
  return doc.array('embeddings').map((value, i): EmbeddingSet => {
    const e = fieldsOf(value, EMBEDDINGS_INDEX_PATH, `embeddings[${i}]`);
    const key = e.string('key', 500);
    if (keys.has(key)) throw duplicate(EMBEDDINGS_INDEX_PATH, 'embedding sets', key);
    keys.add(key);
    const path = e.path('path');
    if (paths.has(path)) throw e.invalid(`shares its file ${path} with another set`);
    paths.add(path);
    const dtype = ownValue(e.obj, 'dtype');
    if (dtype !== 'float32') {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} have dtype ${quote(dtype ?? null)}; only float32 is accepted.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const dim = ownValue(e.obj, 'dim');
    if (
      typeof dim !== 'number' ||
      !Number.isSafeInteger(dim) ||
      dim < 1 ||
      dim > MAX_EMBEDDING_DIM
    ) {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} have dimension ${quote(dim ?? null)}.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const count = e.count('count');
    const list = e.array('records');
    if (list.length !== count) {
      throw new ArchiveError(
        'bad-tensor',
        `${EMBEDDINGS_INDEX_PATH}: embeddings ${quote(key)} declare ${count} vectors but list ${list.length}.`,
        EMBEDDINGS_INDEX_PATH,
      );
    }
    const seen = new Set<string>();
    const records = list.map((item, k) => {
      const r = fieldsOf(item, EMBEDDINGS_INDEX_PATH, `embeddings[${i}].records[${k}]`);
      const sampleId = r.id('sampleId');
      if (!sampleIds.has(sampleId)) {
        throw new ArchiveError(
          'unknown-reference',
          `${EMBEDDINGS_INDEX_PATH}: an embedding belongs to image ${quote(sampleId)}, which samples.json does not list.`,
          EMBEDDINGS_INDEX_PATH,
        );
      }
      if (seen.has(sampleId))
        throw duplicate(EMBEDDINGS_INDEX_PATH, `embeddings under ${quote(key)}`, sampleId);
      seen.add(sampleId);
      return { sampleId, createdAt: r.number('createdAt'), extra: r.rest('sampleId', 'createdAt') };
    });
    return { key, path, dim, records };
  });
}
