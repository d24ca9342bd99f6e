/**
 * Turns onnxruntime's telemetry off for this process. Imported for its effect only, and only by
 * `ort.ts`, ahead of onnxruntime-node (ES modules run their imports in order, so the variable is
 * set before the runtime loads). See `ort.ts` for why.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';
