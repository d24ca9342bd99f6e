/**
 * fleetmap simulation: a Lanelet2 map as ground truth, a fleet of simulated vehicles driving it,
 * and the messages their sensor buses would carry (shared/topics.ts), with the ground truth the
 * evaluation needs beside them.
 *
 * Typical use:
 *   const xml = readFileSync(path, 'utf8');
 *   const map = loadLanelet2(xml, { origin: osmBoundsCentre(xml) });
 *   const plan = planFleet(map, { vehicles: 20, drivesPerVehicle: 3, driveLengthM: 2000, seed: 1 });
 *   for (const drive of plan.drives) { const sim = simulateDrive(map, drive); ... sim.messages ... }
 */
export { loadLanelet2, osmBoundsCentre, classKey } from './lanelet2.ts';
export type { GroundTruthPrimitive, Lanelet, LaneletBound, Lanelet2Map, LoadLanelet2Options, ClassTotal } from './lanelet2.ts';
export { MapLoadError } from './map-errors.ts';
export type { MapLoadProblem, MapLoadProblemCode } from './map-errors.ts';
export { parseOsmXml } from './osm-xml.ts';
export type { OsmDocument, OsmNode, OsmWay, OsmRelation, OsmMember } from './osm-xml.ts';
export { mapWayTags, isVehicleLanelet, isOneWayLanelet, refLineStopLine, STOP_SIGN_CODES } from './lanelet2-tags.ts';
export { buildCrosswalks, DEFAULT_CROSSWALK_PAIRING } from './crosswalks.ts';
export type { CrosswalkArea, MarkingLine, CrosswalkPairingOptions, CrosswalkLaneletInput, CrosswalkPolygonInput } from './crosswalks.ts';
export { clusterStripes, stripeShape, DEFAULT_STRIPES } from './crosswalk-stripes.ts';
export type { StripeOptions, StripeShape } from './crosswalk-stripes.ts';

export { buildLaneletGraph } from './lanelet-graph.ts';
export type { LaneletGraph, DirectedLanelet, Successor, LaneletGraphOptions } from './lanelet-graph.ts';
export { DEFAULT_BRIDGE_OPTIONS } from './lanelet-bridges.ts';
export type { BridgeOptions } from './lanelet-bridges.ts';
export { planRoute } from './routes.ts';
export type { Route, RouteOptions } from './routes.ts';

export { Rng, deriveSeed } from './rng.ts';
export type { Seed } from './rng.ts';

export { DriveProfile, sampleTrajectory, DEFAULT_DRIVE_OPTIONS } from './drive.ts';
export type { DriveOptions, TruePose, TrueTrajectory } from './drive.ts';
export { GnssErrorModel, DEFAULT_GNSS_ERROR_OPTIONS } from './gnss-error.ts';
export type { GnssErrorOptions, GnssErrorSample, GnssEvent } from './gnss-error.ts';
export { OraclePerception, DEFAULT_ORACLE_OPTIONS } from './oracle-perception.ts';
export type { OraclePerceptionOptions, OracleFrame, PoseXY } from './oracle-perception.ts';
export { PrimitiveIndex } from './primitive-index.ts';

export { planFleet, laneletGraphOf, mapSeedOf, DEFAULT_FLEET_OPTIONS } from './fleet.ts';
export type { FleetOptions, FleetPlan, PlannedDrive, PlannedVehicle } from './fleet.ts';
export { simulateDrive, oracleFor, DEFAULT_SIMULATE_DRIVE_OPTIONS, DEFAULT_VEHICLE_SIGNAL_OPTIONS } from './simulate-drive.ts';
export type { SimulateDriveOptions, SimulatedDrive, DriveTruth, VehicleSignalOptions } from './simulate-drive.ts';
export { sortMessages } from './messages.ts';
export type { SimMessage } from './messages.ts';
export { KARLSRUHE_OSM_PATH, loadLanelet2File } from './bundled-maps.ts';
