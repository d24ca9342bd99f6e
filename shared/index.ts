/** shared/: what the edge, the cloud and the tools agree on. Imports nothing else of ours. */
export * from './schema.ts';
export * from './geo.ts';
export * from './geometry.ts';
export * from './tiles.ts';
export * from './topics.ts';
export * from './signing.ts';
export * from './ids.ts';
export * from './msgpack-safe.ts';
export * from './envelope.ts';
export * from './batch.ts';
export * from './ack.ts';
export * from './camera.ts';
export * from './camera-frame.ts';
export * from './radar.ts';
