export type { ObjectStore } from './object-store.ts';
export { assertObjectKey } from './object-store.ts';
export { LocalDirStore } from './local-dir-store.ts';
