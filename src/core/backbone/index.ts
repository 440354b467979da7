/** Public surface of the backbone module: interfaces, preprocessing, backbones and the registry. */
export * from './types';
export * from './preprocess';
export * from './augment';
export * from './layersModel';
export * from './layersBackbone';
export * from './mobilenetV1';
export * from './mobilenetV2';
export * from './specs';
export * from './registry';
