/** Storage: the typed IndexedDB schema, one repository module per aggregate, restore writes. */
export * from './schema';
export * from './db';
export * as projectsRepo from './projects';
export * as labelsRepo from './labels';
export * as samplesRepo from './samples';
export * as embeddingsRepo from './embeddings';
export * as modelsRepo from './models';
export * as outOfFoldRepo from './outOfFold';
export * as backboneFilesRepo from './backboneFiles';
export * from './restoreProject';
export * as trashRepo from './trash';
