/**
 * cloud/web: the read-only web page of the fleet and the published map (README.md).
 *
 * - `startWebServer(options)`: the service (fastify) on one address; `DEFAULT_WEB_OPTIONS`.
 * - `startEmbeddedWeb` / `serveUntilInterrupted`: the page inside another command (the demo).
 * - Pure parts: `healthView`, `sampleOf` / `HealthHistory`, `diffView`, access rules (auth.ts).
 */
export { startWebServer, DEFAULT_WEB_OPTIONS, CONTENT_SECURITY_POLICY, type WebServer, type WebServerOptions } from './server.ts';
export { startEmbeddedWeb, serveUntilInterrupted, type EmbeddedWebOptions } from './embedded.ts';
export { healthView, type HealthView, type VehicleRow } from './health-view.ts';
export { HealthHistory, sampleOf, HISTORY_KEY, type HistorySample, type HistoryFile } from './history.ts';
export { diffView, indexFeatures, type DiffView, type DiffEntry } from './diff.ts';
export { authorise, tokenMatches, parseListen, isLoopbackHost, checkBindPolicy, TOKEN_COOKIE } from './auth.ts';
export { COVERAGE_ZOOM, type CoverageGeoJson } from './coverage.ts';
