/**
 * Vehicle and drive ids: what may name a vehicle (a store key segment, a registry entry, a health
 * row) and a drive (a merge grouping key). Ids key Maps everywhere; these rules also keep them away
 * from object-prototype names and from the store's temp-file names, in case any reaches a plain
 * object or a path.
 */

/** Vehicle ids: 1..64 of [A-Za-z0-9._-], not "." or "..", no ".tmp-", not a prototype name. */
export const VEHICLE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Names an id may not take: properties every plain object inherits, and `prototype`. */
const RESERVED = new Set<string>([...Object.getOwnPropertyNames(Object.prototype), 'prototype', '__proto__']);

/** Why `id` cannot be a vehicle id, or undefined when it can. */
export function vehicleIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || !VEHICLE_ID_RE.test(id)) return `vehicle id must match ${VEHICLE_ID_RE}, got ${show(id)}`;
  if (id === '.' || id === '..') return `vehicle id ${show(id)} is a path component`;
  if (id.includes('.tmp-')) return `vehicle id ${show(id)} contains ".tmp-" (the store's temp file names)`;
  if (RESERVED.has(id)) return `vehicle id ${show(id)} is reserved (an object prototype property name)`;
  return undefined;
}

export function isVehicleId(id: unknown): id is string {
  return vehicleIdProblem(id) === undefined;
}

/** Drive ids on the wire: 1..64 printable ASCII characters (0x21-0x7e). */
export const MAX_DRIVE_ID_CHARS = 64;
/** Sign codes on the wire: 0..32 printable ASCII characters (0x20-0x7e). */
export const MAX_SIGN_CODE_CHARS = 32;

const DRIVE_ID_RE = /^[\x21-\x7e]{1,64}$/;
const SIGN_CODE_RE = /^[\x20-\x7e]{0,32}$/;

export function isWireDriveId(v: unknown): v is string {
  return typeof v === 'string' && DRIVE_ID_RE.test(v);
}

export function isWireSignCode(v: unknown): v is string {
  return typeof v === 'string' && SIGN_CODE_RE.test(v);
}

/**
 * A drive as the merge sees it: `<vehicleId>/<driveId>`. The vehicle id comes from the
 * authenticated envelope, so a vehicle can only ever speak for its own drives.
 */
export function vehicleScopedDriveId(vehicleId: string, driveId: string): string {
  return `${vehicleId}/${driveId}`;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 80)) : String(v);
}
