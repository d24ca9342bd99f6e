#!/usr/bin/env python3
"""An independent reader of a published fleetmap map version, written from the documentation only
(README.md, docs/ARCHITECTURE.md, cloud/merge/README.md, cloud/store/README.md, cloud/web/README.md
and the commands' --help): no fleetmap source was read to write it. Standard library only.

usage: map_reader.py --store DIR [--version N] [--bbox W,S,E,N] [--class CLS] [--changes]
                     [--confirm-drives N]

Layout used (cloud/merge/README.md, "layout" block):
  tiles/latest.json            {version, manifest, createdUnixMs}, written last: the latest version
  tiles/v<N>/manifest.json     version, createdUnixMs, per tile: its object key (tiles/v<M>/..., M <= N:
                               unchanged tiles are carried by reference), feature counts; change
                               summary vs the previous version (changes.tiles[t].addedIds /
                               removedIds / movedIds / removedParts)
  tiles/v<M>/16/<x>/<y>.geojson  RFC 7946 FeatureCollection, [lng, lat] WGS84; properties.class, .id
Readers go through latest.json and the manifest, never by listing tiles/v<N>/.

Prints one JSON line on stdout. Failure: one line on stderr, exit 1. Bad usage: one line, exit 2.

Lengths: each segment's length in a local tangent plane at the segment's mean latitude on the WGS84
ellipsoid (east = N(lat) cos(lat) dlng, north = M(lat) dlat, N and M the prime-vertical and
meridional radii of curvature), summed. Over segments of metres this is exact to well under a
millimetre per kilometre.
"""

import argparse
import json
import math
import os
import re
import sys

PROG = "map_reader"
CLASSES = ("lane_divider", "road_boundary", "stop_line", "crosswalk", "traffic_sign", "traffic_light")
LINE_GEOMETRIES = ("LineString", "MultiLineString")
KEY_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")
TILE_KEY = re.compile(r"^tiles/v([0-9]+)/16/([0-9]+)/([0-9]+)\.geojson$")
TILE_ID = re.compile(r"^16/([0-9]+)/([0-9]+)$")

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


class Failure(Exception):
    """A failure while reading (exit 1)."""


class Usage(Exception):
    """Bad usage (exit 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the usage block)
        raise Usage(message)


# ----------------------------------------------------------------------------- store access

def check_key(key):
    """cloud/store/README.md: keys are '/'-separated relative paths of [A-Za-z0-9._-] segments,
    no '.'/'..' segments, no leading or double '/'. Anything else in a manifest is refused."""
    if not isinstance(key, str) or key == "":
        raise Failure("bad object key %r" % (key,))
    for seg in key.split("/"):
        if seg in ("", ".", "..") or not KEY_SEGMENT.match(seg):
            raise Failure("bad object key %r" % (key,))
    return key


def read_json(store, key, what):
    path = os.path.join(store, *check_key(key).split("/"))
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise Failure("%s %s is missing" % (what, key))
    except OSError as err:
        raise Failure("cannot read %s %s: %s" % (what, key, err.strerror or err))
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise Failure("%s %s is not JSON: %s" % (what, key, str(err).splitlines()[0]))


def expect(cond, message):
    if not cond:
        raise Failure(message)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def read_latest(store):
    latest = read_json(store, "tiles/latest.json", "latest pointer")
    expect(isinstance(latest, dict), "tiles/latest.json is not an object")
    v = latest.get("version")
    expect(is_int(v) and v >= 1, "tiles/latest.json: bad version %r" % (v,))
    return latest


def read_manifest(store, version, key=None):
    key = key or "tiles/v%d/manifest.json" % version
    m = read_json(store, key, "manifest of v%d" % version)
    expect(isinstance(m, dict), "%s is not an object" % key)
    expect(m.get("version") == version, "%s says version %r, expected %d" % (key, m.get("version"), version))
    tiles = m.get("tiles")
    expect(isinstance(tiles, list), "%s: 'tiles' is not a list" % key)
    for i, t in enumerate(tiles):
        expect(isinstance(t, dict) and isinstance(t.get("key"), str), "%s: tiles[%d] has no object key" % (key, i))
        mk = TILE_KEY.match(t["key"])
        expect(mk is not None, "%s: tiles[%d] key %r is not tiles/v<M>/16/<x>/<y>.geojson" % (key, i, t["key"]))
        expect(int(mk.group(1)) <= version,
               "%s: tiles[%d] key %r points at a later version" % (key, i, t["key"]))
        if "tile" in t:
            expect(t["tile"] == "16/%s/%s" % (mk.group(2), mk.group(3)),
                   "%s: tiles[%d] tile %r does not match its key %r" % (key, i, t.get("tile"), t["key"]))
    return m


def read_tile(store, entry):
    key = entry["key"]
    fc = read_json(store, key, "tile")
    expect(isinstance(fc, dict) and fc.get("type") == "FeatureCollection", "tile %s is not a FeatureCollection" % key)
    feats = fc.get("features")
    expect(isinstance(feats, list), "tile %s: 'features' is not a list" % key)
    if is_int(entry.get("features")):
        expect(entry["features"] == len(feats),
               "tile %s holds %d features, its manifest entry says %d" % (key, len(feats), entry["features"]))
    out = []
    for i, f in enumerate(feats):
        expect(isinstance(f, dict) and f.get("type") == "Feature", "tile %s: features[%d] is not a Feature" % (key, i))
        props = f.get("properties")
        expect(isinstance(props, dict), "tile %s: features[%d] has no properties" % (key, i))
        cls = props.get("class")
        expect(isinstance(cls, str), "tile %s: features[%d] has no class" % (key, i))
        geom = f.get("geometry")
        expect(isinstance(geom, dict) and isinstance(geom.get("type"), str) and "coordinates" in geom,
               "tile %s: features[%d] has no geometry" % (key, i))
        check_positions(geom, "tile %s: features[%d]" % (key, i))
        fid = props.get("id", f.get("id"))
        out.append({"id": fid, "cls": cls, "geom": geom, "props": props, "tile": entry.get("tile")})
    return out


def check_positions(geom, where):
    for line in lines_of(geom, where):
        for p in line:
            ok = (isinstance(p, list) and len(p) >= 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in p[:2])
                  and -180 <= p[0] <= 180 and -90 <= p[1] <= 90)
            expect(ok, "%s: bad position %r" % (where, p))


def lines_of(geom, where="geometry"):
    """Every vertex sequence of a geometry (a Point is a sequence of one)."""
    t, c = geom.get("type"), geom.get("coordinates")
    try:
        if t == "Point":
            return [[c]]
        if t in ("LineString", "MultiPoint"):
            return [c]
        if t in ("Polygon", "MultiLineString"):
            return list(c)
        if t == "MultiPolygon":
            return [ring for poly in c for ring in poly]
    except TypeError:
        pass
    raise Failure("%s: unsupported geometry %r" % (where, t))


def read_version(store, version, manifest_key=None):
    m = read_manifest(store, version, manifest_key)
    feats = []
    carried = 0
    for entry in m["tiles"]:
        if int(TILE_KEY.match(entry["key"]).group(1)) < version:
            carried += 1
        feats.extend(read_tile(store, entry))
    return m, feats, carried


# ----------------------------------------------------------------------------- geometry

def seg_len_m(p, q):
    lat = math.radians((p[1] + q[1]) / 2)
    s = math.sin(lat)
    w = 1 - WGS84_E2 * s * s
    n = WGS84_A / math.sqrt(w)                   # prime-vertical radius
    m = WGS84_A * (1 - WGS84_E2) / (w * math.sqrt(w))  # meridional radius
    dx = math.radians(q[0] - p[0]) * n * math.cos(lat)
    dy = math.radians(q[1] - p[1]) * m
    return math.hypot(dx, dy)


def length_m(geom):
    total = 0.0
    if geom["type"] in LINE_GEOMETRIES:
        for line in lines_of(geom):
            for a, b in zip(line, line[1:]):
                total += seg_len_m(a, b)
    return total


def in_box(p, box):
    w, s, e, n = box
    return w <= p[0] <= e and s <= p[1] <= n


def seg_hits_box(a, b, box):
    """Liang-Barsky: does segment ab touch the closed box?"""
    w, s, e, n = box
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for pk, qk in ((-dx, a[0] - w), (dx, e - a[0]), (-dy, a[1] - s), (dy, n - a[1])):
        if pk == 0:
            if qk < 0:
                return False
        else:
            r = qk / pk
            if pk < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                return False
    return True


def point_in_ring(pt, ring):
    x, y = pt
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def intersects(geom, box):
    t = geom["type"]
    seqs = lines_of(geom)
    if t in ("Point", "MultiPoint"):
        return any(in_box(p, box) for line in seqs for p in line)
    for line in seqs:
        if any(in_box(p, box) for p in line):
            return True
        if any(seg_hits_box(a, b, box) for a, b in zip(line, line[1:])):
            return True
    if t in ("Polygon", "MultiPolygon"):  # the box wholly inside an outer ring
        polys = [geom["coordinates"]] if t == "Polygon" else geom["coordinates"]
        corner = [[box[0], box[1]]]
        for poly in polys:
            rings = [[p[:2] for p in r] for r in poly]
            if rings and point_in_ring(corner[0], rings[0]) and not any(point_in_ring(corner[0], h) for h in rings[1:]):
                return True
    return False


# ----------------------------------------------------------------------------- summary

def summarise(feats):
    counts, lengths = {}, {}
    for f in feats:
        counts[f["cls"]] = counts.get(f["cls"], 0) + 1
        if f["geom"]["type"] in LINE_GEOMETRIES:
            lengths[f["cls"]] = lengths.get(f["cls"], 0.0) + length_m(f["geom"])
    return ({c: counts[c] for c in sorted(counts, key=class_order)},
            {c: round(lengths[c], 2) for c in sorted(lengths, key=class_order)})


def class_order(c):
    return (CLASSES.index(c) if c in CLASSES else len(CLASSES), c)


def keep(f, args):
    if args.cls and f["cls"] != args.cls:
        return False
    if args.bbox and not intersects(f["geom"], args.bbox):
        return False
    return True


def changes_of(store, version, manifest, feats, args):
    """The change summary the merge recorded in vN's manifest against the previous version
    (cloud/merge/README.md: changes.tiles[*].addedIds / removedIds / movedIds, and removedParts;
    `cloud diff` lists removed parts as removals). Classes of added / moved ids come from vN's
    features, of removed ids from the previous version's features."""
    ch = manifest.get("changes")
    expect(isinstance(ch, dict) and isinstance(ch.get("tiles"), (dict, list)),
           "manifest of v%d has no change summary (changes.tiles)" % version)
    prev = manifest.get("previousVersion", version - 1 if version > 1 else None)
    if prev is None:  # as `fleetmap cloud diff 1`: the first version has nothing to be compared with
        raise Failure("v%d is the first version: there is no previous version to compare it with" % version)
    expect(is_int(prev) and 1 <= prev < version, "manifest of v%d: bad previousVersion %r" % (version, prev))
    tiles = ch["tiles"]
    items = list(tiles.items()) if isinstance(tiles, dict) else [(t.get("tile"), t) for t in tiles]

    by_id = {f["id"]: f for f in feats}
    _, pfeats, _ = read_version(store, prev)
    prev_by_id = {f["id"]: f for f in pfeats}
    # "A's newest sighting": the newest lastSeenUnixMs among the previous version's features
    seen = [f["props"].get("lastSeenUnixMs") for f in pfeats if is_int(f["props"].get("lastSeenUnixMs"))]
    prev_newest = max(seen) if seen else None

    opts = manifest.get("options") if isinstance(manifest.get("options"), dict) else {}
    min_score = opts.get("changeMinScore", 0)
    share = opts.get("changeNewDrivesShare", 0.75)

    def status(kind, f):
        # cloud/merge/README.md "Status" (our reading of it; see the report for what is vague there)
        p = f["props"] if f else {}
        drives = p.get("supportDrives", 0) or 0
        if kind == "removed":
            return "confirmed" if drives >= args.confirm_drives else "candidate"
        if drives < args.confirm_drives or (p.get("score") or 0) < min_score:
            return "candidate"
        if kind == "added":
            first = p.get("firstSeenUnixMs")
            recent = p.get("recentDrives") or 0
            if prev_newest is None or (is_int(first) and first > prev_newest) or recent >= share * drives:
                return "confirmed"
            return "candidate"
        last = p.get("lastSeenUnixMs")  # moved: a sighting after the previous version's newest
        return "confirmed" if prev_newest is None or (is_int(last) and last > prev_newest) else "candidate"

    counts = {}
    statuses = {}
    missing = []
    n = 0

    entries = []

    def add(kind, cls, st, fid):
        nonlocal n
        n += 1
        entries.append((kind, fid, cls, st))
        counts.setdefault(kind, {})
        counts[kind][cls] = counts[kind].get(cls, 0) + 1
        statuses.setdefault(kind, {"confirmed": 0, "candidate": 0})
        statuses[kind][st] += 1

    seen_ids = set()
    for tile, rec in items:
        expect(isinstance(rec, dict), "manifest of v%d: changes.tiles[%r] is not an object" % (version, tile))
        for kind, field, source in (("added", "addedIds", by_id), ("moved", "movedIds", by_id),
                                    ("removed", "removedIds", prev_by_id)):
            ids = rec.get(field, [])
            expect(isinstance(ids, list), "manifest of v%d: changes.tiles[%r].%s is not a list" % (version, tile, field))
            for fid in ids:
                if (kind, fid) in seen_ids:
                    continue
                seen_ids.add((kind, fid))
                f = source.get(fid)
                if f is None:
                    missing.append("%s %s" % (kind, fid))
                    continue
                if kind == "removed" and fid in by_id:
                    continue  # does not hold in vN (cloud diff: only changes that still hold)
                if not keep(f, args):
                    continue
                add(kind, f["cls"], status(kind, f), fid)
        parts = rec.get("removedParts", [])
        expect(isinstance(parts, list), "manifest of v%d: changes.tiles[%r].removedParts is not a list" % (version, tile))
        for part in parts:
            expect(isinstance(part, dict) and isinstance(part.get("cls"), str),
                   "manifest of v%d: a removed part in %r has no class" % (version, tile))
            coords = part.get("coordinates")
            geom = {"type": "LineString", "coordinates": coords}
            if coords and isinstance(coords[0], list) and coords[0] and isinstance(coords[0][0], list):
                geom = {"type": "MultiLineString", "coordinates": coords}
            pf = {"cls": part["cls"], "geom": geom}
            if not keep(pf, args):
                continue
            parent = prev_by_id.get(part.get("parentId"))
            add("removed", part["cls"], status("removed", parent), part.get("id"))
    expect(not missing, "v%d's change summary names features found in neither version: %s"
           % (version, ", ".join(missing[:5])))
    out = {"previousVersion": prev, "total": n,
           "byKind": {k: {c: counts[k][c] for c in sorted(counts[k], key=class_order)} for k in ("added", "moved", "removed") if k in counts},
           "status": {k: statuses[k] for k in ("added", "moved", "removed") if k in statuses},
           "confirmDrives": args.confirm_drives}
    totals = ch.get("totals")
    if isinstance(totals, dict) and not args.cls and not args.bbox:
        out["manifestTotals"] = {k: totals[k] for k in ("added", "moved", "removed") if k in totals}
    return out, entries


# ----------------------------------------------------------------------------- main

def parse_args(argv):
    p = Parser(prog=PROG, add_help=True,
               description="Read a published fleetmap map version (one JSON line).")
    p.add_argument("--store", required=True, help="the store directory")
    p.add_argument("--version", help="map version N or vN (default: tiles/latest.json)")
    p.add_argument("--bbox", help="west,south,east,north in WGS84 degrees: only features intersecting it")
    p.add_argument("--class", dest="cls", help="only this class (%s)" % ", ".join(CLASSES))
    p.add_argument("--changes", action="store_true", help="also the changes against the previous version")
    p.add_argument("--confirm-drives", type=int, default=3, help="drives that confirm a change (default 3)")
    # a value starting with '-' (a western longitude) is still the value of the flag before it
    fixed, i = [], 0
    while i < len(argv):
        if argv[i] in ("--bbox", "--version", "--class", "--store", "--confirm-drives") and i + 1 < len(argv):
            fixed.append(argv[i] + "=" + argv[i + 1])
            i += 2
        else:
            fixed.append(argv[i])
            i += 1
    args = p.parse_args(fixed)
    if args.version is not None:
        m = re.match(r"^v?([0-9]+)$", args.version)
        if not m or int(m.group(1)) < 1:
            raise Usage("--version must be a positive integer (7 or v7), got %r" % args.version)
        args.version = int(m.group(1))
    if args.bbox is not None:
        try:
            box = [float(x) for x in args.bbox.split(",")]
        except ValueError:
            box = []
        if (len(box) != 4 or not all(math.isfinite(x) for x in box) or not (-180 <= box[0] <= box[2] <= 180)
                or not (-90 <= box[1] <= box[3] <= 90)):
            raise Usage("--bbox must be west,south,east,north in degrees with west <= east and south <= north, got %r"
                        % args.bbox)
        args.bbox = box
    if args.cls is not None and args.cls not in CLASSES:
        raise Usage("--class must be one of %s, got %r" % (", ".join(CLASSES), args.cls))
    if args.confirm_drives < 1:
        raise Usage("--confirm-drives must be at least 1")
    if not os.path.isdir(args.store):
        raise Usage("--store %s: no such directory" % args.store)
    return args


def main(argv):
    args = parse_args(argv)
    store = args.store
    latest = read_latest(store)
    version = args.version if args.version is not None else latest["version"]
    if version > latest["version"]:
        raise Failure("version %d is not published (latest is %d)" % (version, latest["version"]))
    mkey = latest.get("manifest") if version == latest["version"] and isinstance(latest.get("manifest"), str) else None
    manifest, feats, carried = read_version(store, version, mkey)
    chosen = [f for f in feats if keep(f, args)]
    counts, lengths = summarise(chosen)
    out = {
        "version": version,
        "latest": latest["version"],
        "createdUnixMs": manifest.get("createdUnixMs"),
        "tiles": len(manifest["tiles"]),
        "carriedTiles": carried,
        "features": len(chosen),
        "featuresByClass": counts,
        "lengthMByClass": lengths,
        "lengthMethod": "per segment, local tangent plane on the WGS84 ellipsoid at the segment's mean latitude",
    }
    if args.bbox:
        out["bbox"] = args.bbox
    if args.cls:
        out["class"] = args.cls
    if args.changes:
        out["changes"], _ = changes_of(store, version, manifest, feats, args)
    sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Usage as err:
        sys.stderr.write("%s: %s\n" % (PROG, err))
        sys.exit(2)
    except Failure as err:
        sys.stderr.write("%s: %s\n" % (PROG, err))
        sys.exit(1)
    except (RecursionError, MemoryError, KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as err:
        sys.stderr.write("%s: malformed map data: %s: %s\n" % (PROG, type(err).__name__, err))
        sys.exit(1)
