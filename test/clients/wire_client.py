#!/usr/bin/python3
"""Independent fleetmap uplink client, written from docs/WIRE.md alone.

It builds observation batches from scratch (msgpack body, envelope v2, Ed25519 signature),
sends them to a fleetmap ingest over ZeroMQ with CURVE (DEALER or REQ, one frame per message,
stop-and-wait), verifies every ack (the ingest's ack signature, the sha256 of the envelope, the
seq) and prints one JSON summary line. With --tamper MODE it sends one deliberately bad message
per batch and expects the refusal docs/WIRE.md section 5 documents for it.

Only Debian packages: python3-zmq, python3-msgpack, python3-cryptography.

Exit codes: 0 success (or: the ingest answered a tampered message exactly as documented),
1 failure (one line on stderr), 2 bad usage.
"""

import argparse
import hashlib
import json
import re
import struct
import sys
import time

# ---------------------------------------------------------------------------------------------
# Constants from docs/WIRE.md
# ---------------------------------------------------------------------------------------------

MAGIC = b"FM"
VERSION = 2
KIND_BATCH = 1
KIND_ACK = 2
SIG_LEN = 64
HEADER_FIXED = 10  # magic 2 + version 1 + kind 1 + flags 1 + L 1 + B 4
MAX_ENVELOPE_BYTES = 8388608
MAX_ACK_REASON = 1024

CLASS = {"lane_divider": 0, "road_boundary": 1, "stop_line": 2, "crosswalk": 3,
         "traffic_sign": 4, "traffic_light": 5}
DIVIDER_STYLE = {"solid": 0, "dashed": 1, "mixed": 2}
BOUNDARY_KIND = {"curb": 0, "road_border": 1, "barrier": 2}
ACK_STATUS = {1: "stored", 2: "duplicate", 3: "rejected"}

VEHICLE_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PROTO_NAMES = {"__proto__", "constructor", "prototype", "hasOwnProperty", "toString",
               "valueOf", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
               "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__"}
DRIVE_ID_RE = re.compile(r"^[\x21-\x7e]{1,64}$")
TILE_KEY_RE = re.compile(r"^16/(0|[1-9][0-9]*)/(0|[1-9][0-9]*)$")

# Tamper modes: what each sends, and the refusal WIRE.md section 5 documents for it.
#   expect: (status, code or None, seq_in_ack) where seq_in_ack is "nil" or "seq".
TAMPER = {
    "signature": ("rejected", "bad_signature", "nil",
                  "a valid batch with one body byte flipped after signing"),
    "wrong-drive": ("stored", None, "seq",
                    "a batch naming a drive id of another vehicle (WIRE.md 3.3: not a refusal, "
                    "drive ids are scoped to the signing vehicle, so it is stored)"),
    "seq-conflict": ("rejected", "seq_conflict", "seq",
                     "a valid batch, then other bytes under the same seq"),
    "bad-time": ("rejected", "bad_time", "seq", "a batch created 31 days ago"),
    "bad-tile-key": ("rejected", "bad_tile_key", "seq", "a non-canonical tile key (leading zero)"),
    "unknown-field": ("rejected", "bad_body", "seq", "a batch body with an unknown key"),
    "bad-msgpack": ("rejected", "bad_msgpack", "nil", "a signed body holding a msgpack extension"),
    "bad-kind": ("rejected", "bad_kind", "nil", "a signed envelope of kind 2 (ack) sent to the ingest"),
    "bad-version": ("rejected", "bad_version", "nil", "a signed envelope with version 1"),
    "bad-flags": ("rejected", "bad_flags", "nil", "a signed envelope with an unknown flag bit"),
    "truncated": ("rejected", "truncated", "nil", "a valid envelope missing its last byte"),
    "unknown-sender": ("rejected", "unknown_sender", "nil", "a batch claiming an unregistered vehicle id"),
    "bad-frames": ("rejected", "bad_frames", "nil", "a valid envelope sent as two frames"),
}


class Fail(Exception):
    """A failure: reported as one line on stderr, exit 1."""


class UsageError(Exception):
    """Bad usage: one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------

def _read_text(path, what):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Fail(f"cannot read {what} {path}: {e.strerror}")
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise Fail(f"{what} {path} is not text")


def _load_ed25519(path, what, pem_form, load_pem, key_type, from_raw):
    """An Ed25519 key file: PEM (`pem_form`) as fleetmap keys writes it, or 64 hex digits."""
    text = _read_text(path, what)
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem(text.encode())
        except (ValueError, TypeError):
            raise Fail(f"{what} {path}: not {pem_form}")
        if not isinstance(key, key_type):
            raise Fail(f"{what} {path}: not an Ed25519 key")
        return key
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return from_raw(bytes.fromhex(text))
    raise Fail(f"{what} {path}: neither PEM nor 64 hex digits")


def load_signing_key(path):
    """Vehicle Ed25519 private key: PEM PKCS#8 (fleetmap keys generate) or 64 hex digits (seed)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    return _load_ed25519(path, "signing key", "an unencrypted PEM PKCS#8 private key",
                         lambda b: load_pem_private_key(b, password=None), Ed25519PrivateKey,
                         Ed25519PrivateKey.from_private_bytes)


def load_ack_public_key(path):
    """Ingest ack public key: PEM SPKI (fleetmap keys generate-ingest) or 64 hex digits."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    return _load_ed25519(path, "ingest ack public key", "a PEM SPKI public key", load_pem_public_key,
                         Ed25519PublicKey, Ed25519PublicKey.from_public_bytes)


def z85_key(text, what):
    from zmq.utils import z85
    if not isinstance(text, str) or len(text) != 40:
        raise Fail(f"{what}: a CURVE key is 40 Z85 characters")
    try:
        raw = z85.decode(text.encode("ascii"))
    except Exception:
        raise Fail(f"{what}: not valid Z85")
    if len(raw) != 32:
        raise Fail(f"{what}: not a 32-byte key")
    return text.encode("ascii")


def load_curve_keypair(path):
    """Vehicle CURVE keypair: JSON {publicKey, secretKey}, each 40 Z85 characters."""
    import zmq
    text = _read_text(path, "CURVE keypair")
    try:
        obj = json.loads(text)
    except ValueError:
        raise Fail(f"CURVE keypair {path}: not JSON {{publicKey, secretKey}}")
    if not isinstance(obj, dict) or "publicKey" not in obj or "secretKey" not in obj:
        raise Fail(f"CURVE keypair {path}: not JSON {{publicKey, secretKey}}")
    pub = z85_key(obj["publicKey"], f"CURVE keypair {path} publicKey")
    sec = z85_key(obj["secretKey"], f"CURVE keypair {path} secretKey")
    if zmq.curve_public(sec) != pub:
        raise Fail(f"CURVE keypair {path}: publicKey does not belong to secretKey")
    return pub, sec


def load_curve_public(path):
    """Ingest CURVE public key: a file holding the 40 Z85 characters (as printed by
    `cloud ingest --curve-generate` or logged as curvePublicKey), or the ingest's keypair JSON
    (its publicKey is used; the secret half is ignored)."""
    text = _read_text(path, "ingest CURVE public key")
    # A key first: '{' is a Z85 character, so one key in 85 starts with it.
    if len(text) == 40 and not any(c.isspace() for c in text):
        try:
            return z85_key(text, f"ingest CURVE public key {path}")
        except Fail:
            pass
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            raise Fail(f"ingest CURVE public key {path}: bad JSON")
        if not isinstance(obj, dict) or "publicKey" not in obj:
            raise Fail(f"ingest CURVE public key {path}: JSON without publicKey")
        text = obj["publicKey"]
    return z85_key(text, f"ingest CURVE public key {path}")


# ---------------------------------------------------------------------------------------------
# Envelope (WIRE.md section 2)
# ---------------------------------------------------------------------------------------------

def envelope_unsigned(kind, flags, sender, body, version=VERSION):
    if len(sender) > 255:
        raise Fail("sender id longer than 255 bytes")
    return (MAGIC + bytes([version, kind, flags, len(sender)]) + sender
            + struct.pack(">I", len(body)) + body)


def sign_envelope(private_key, kind, flags, sender, body, version=VERSION):
    head = envelope_unsigned(kind, flags, sender, body, version)
    sig = private_key.sign(head)
    assert len(sig) == SIG_LEN
    return head + sig


def parse_envelope(data):
    """Split an envelope; raises ValueError on any layout error."""
    if len(data) < HEADER_FIXED + SIG_LEN:
        raise ValueError("too short")
    if data[0:2] != MAGIC:
        raise ValueError("bad magic")
    if data[2] != VERSION:
        raise ValueError(f"version {data[2]}")
    kind, flags, sender_len = data[3], data[4], data[5]
    if len(data) < HEADER_FIXED + sender_len + SIG_LEN:
        raise ValueError("truncated")
    sender = data[6:6 + sender_len]
    (body_len,) = struct.unpack(">I", data[6 + sender_len:10 + sender_len])
    end = HEADER_FIXED + sender_len + body_len
    if len(data) != end + SIG_LEN:
        raise ValueError("length does not match the header")
    return {"kind": kind, "flags": flags, "sender": sender,
            "body": data[HEADER_FIXED + sender_len:end],
            "signed": data[:end], "signature": data[end:]}


# ---------------------------------------------------------------------------------------------
# msgpack (plain only: WIRE.md 3.1)
# ---------------------------------------------------------------------------------------------

def pack(obj):
    import msgpack
    return msgpack.packb(obj, use_bin_type=True)


def pack_map16(obj):
    """msgpack like msgpackr writes it: every map as map 16. Only for the self-test."""
    import msgpack
    if isinstance(obj, dict):
        out = b"\xde" + struct.pack(">H", len(obj))
        for k, v in obj.items():
            out += pack_map16(k) + pack_map16(v)
        return out
    if isinstance(obj, list):
        if len(obj) > 15:
            raise ValueError("self-test packer: short arrays only")
        return bytes([0x90 | len(obj)]) + b"".join(pack_map16(v) for v in obj)
    return msgpack.packb(obj, use_bin_type=True)


def _no_ext(code, data):
    raise ValueError(f"msgpack extension type {code}")


def unpack_plain(data):
    import msgpack
    return msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_no_ext,
                           use_list=True)


# ---------------------------------------------------------------------------------------------
# Batch body (WIRE.md section 3)
# ---------------------------------------------------------------------------------------------

def canonical_tile_key(key):
    m = TILE_KEY_RE.match(key)
    if not m:
        return False
    return int(m.group(1)) < 65536 and int(m.group(2)) < 65536


def row(cls, attr, sign_code, score, drive_index, dt_ms, pose_sigma_cm, vertices):
    """One observation row: vertices are absolute (x, y) in cm in the tile's local frame;
    the first is written as is, the others as deltas to the previous one."""
    out = [cls, attr, sign_code, score, drive_index, dt_ms, pose_sigma_cm,
           vertices[0][0], vertices[0][1]]
    for (px, py), (x, y) in zip(vertices, vertices[1:]):
        out += [x - px, y - py]
    for x, y in vertices:
        assert abs(x) <= 200000 and abs(y) <= 200000
    return out


def observations(batch_index):
    """A small, fixed scene near the tile centre; shifted a little per batch so that every batch
    has its own bytes. dt in ms relative to the batch's createdUnixMs (u)."""
    o = batch_index * 150  # cm
    return [
        # dashed lane divider, polyline of 3 vertices
        row(CLASS["lane_divider"], DIVIDER_STYLE["dashed"], "", 230, 0, -900, 35,
            [(-2000 + o, -175), (0 + o, -170), (2000 + o, -160)]),
        # kerb: road boundary, kind curb
        row(CLASS["road_boundary"], BOUNDARY_KIND["curb"], "", 210, 0, -880, 35,
            [(-2000 + o, 540), (0 + o, 545), (2000 + o, 555)]),
        # stop line, 2 vertices
        row(CLASS["stop_line"], -1, "", 190, 0, -700, 40,
            [(2300 + o, -350), (2300 + o, 0)]),
        # crosswalk polygon, outer ring, not closed (4 vertices)
        row(CLASS["crosswalk"], -1, "", 180, 0, -650, 40,
            [(2400 + o, -350), (2800 + o, -350), (2800 + o, 350), (2400 + o, 350)]),
        # traffic sign with a sign code (German StVO 206: stop), 1 vertex
        row(CLASS["traffic_sign"], -1, "de206", 240, 0, -500, 50, [(2250 + o, -650)]),
        # traffic light, 1 vertex
        row(CLASS["traffic_light"], -1, "", 220, 0, -400, 50, [(2900 + o, -700)]),
    ]


def batch_body(seq, created_ms, drive_id, tile_key, batch_index, queue_depth=0, status=None,
               extra=None):
    body = {"s": seq, "u": created_ms, "q": queue_depth, "d": [drive_id],
            "t": [{"k": tile_key, "o": observations(batch_index)}]}
    if status is not None:
        body["h"] = status
    if extra:
        body.update(extra)
    return body


# ---------------------------------------------------------------------------------------------
# Acks (WIRE.md section 4)
# ---------------------------------------------------------------------------------------------

class AckIgnored(Exception):
    """An ack a client must count and ignore (unverified or not naming this message)."""

    def __init__(self, kind, why):
        super().__init__(why)
        self.kind = kind  # "unverified" or "mismatched"


def check_ack(frames, ack_key, expect_sha, expect_seq, allow_nil_seq):
    """Returns {status, seq, code, reason} for an ack that verifies and names this message."""
    from cryptography.exceptions import InvalidSignature
    if len(frames) != 1:
        raise AckIgnored("unverified", f"ack of {len(frames)} frames")
    try:
        env = parse_envelope(frames[0])
    except ValueError as e:
        raise AckIgnored("unverified", f"ack envelope: {e}")
    if env["kind"] != KIND_ACK or env["flags"] != 0 or env["sender"] != b"":
        raise AckIgnored("unverified", "not an ack envelope (kind 2, flags 0, empty sender)")
    try:
        ack_key.verify(env["signature"], env["signed"])
    except InvalidSignature:
        raise AckIgnored("unverified", "ack signature does not verify with the pinned ack key")
    try:
        body = unpack_plain(env["body"])
    except Exception as e:
        raise AckIgnored("unverified", f"ack body not plain msgpack: {e}")
    if not isinstance(body, dict) or not {"s", "st", "h"} <= set(body) or not set(body) <= {"s", "st", "h", "r"}:
        raise AckIgnored("unverified", f"ack body keys {sorted(body) if isinstance(body, dict) else type(body).__name__}")
    s, st, h, r = body["s"], body["st"], body["h"], body.get("r")
    if st not in ACK_STATUS or isinstance(st, bool):
        raise AckIgnored("unverified", f"ack status {st!r}")
    if not isinstance(h, bytes) or len(h) != 32:
        raise AckIgnored("unverified", "ack h is not 32 bytes of bin")
    if r is not None and (not isinstance(r, str) or len(r) > MAX_ACK_REASON):
        raise AckIgnored("unverified", "ack reason is not a string of at most 1024 characters")
    if h != expect_sha:
        raise AckIgnored("mismatched", "ack names another envelope (sha256)")
    if s is None:
        if not (ACK_STATUS[st] == "rejected" and allow_nil_seq):
            raise AckIgnored("mismatched", f"ack {ACK_STATUS[st]} with nil seq")
    elif isinstance(s, float) and s.is_integer():
        s = int(s)
    if s is not None and s != expect_seq:
        raise AckIgnored("mismatched", f"ack names seq {s}, expected {expect_seq}")
    code = None
    if r is not None:
        code = r.split(":", 1)[0]
    if ACK_STATUS[st] == "rejected" and r is None:
        raise AckIgnored("unverified", "rejected ack without a reason")
    if ACK_STATUS[st] != "rejected" and r is not None:
        raise AckIgnored("unverified", "reason on a non-rejected ack")
    return {"status": ACK_STATUS[st], "seq": s, "code": code, "reason": r}


# ---------------------------------------------------------------------------------------------
# Transport (WIRE.md section 1)
# ---------------------------------------------------------------------------------------------

class Link:
    """A DEALER (or REQ) connected with CURVE; reconnects itself (WIRE.md 1.1: libzmq does not
    reconnect after a refused handshake)."""

    def __init__(self, args, curve_pub, curve_sec, server_pub):
        import zmq
        self.zmq = zmq
        self.ctx = zmq.Context.instance()
        self.args = args
        self.curve = (curve_pub, curve_sec, server_pub)
        self.sock = None
        self.monitor = None
        self.handshake = None  # last handshake outcome seen on the monitor
        self.connects = 0
        self.connect()

    def connect(self):
        zmq = self.zmq
        self.close()
        sock = self.ctx.socket(zmq.REQ if self.args.socket == "req" else zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 1)
        if self.args.insecure_no_curve:
            pass
        else:
            pub, sec, server = self.curve
            sock.curve_serverkey = server
            sock.curve_publickey = pub
            sock.curve_secretkey = sec
        self.monitor = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_DISCONNECTED)
        sock.connect(self.args.endpoint)
        self.sock = sock
        self.handshake = None
        self.connects += 1

    def poll_monitor(self):
        from zmq.utils.monitor import recv_monitor_message
        zmq = self.zmq
        while self.monitor is not None and self.monitor.poll(0):
            ev = recv_monitor_message(self.monitor)
            e = ev["event"]
            if e == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshake = "ok"
            elif e == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.handshake = f"refused by the ingest's ZAP handler (status {ev['value']}): this vehicle's CURVE key is not registered to an active vehicle"
            elif e == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                self.handshake = "CURVE handshake failed (wrong ingest CURVE public key?)"
            elif e == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                self.handshake = f"CURVE handshake protocol error ({ev['value']}): is the ingest running with CURVE?"

    def send(self, frames):
        self.sock.send_multipart(frames, copy=True)

    def recv(self, timeout_s):
        """One message, or None after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.poll_monitor()
                return None
            if self.sock.poll(int(min(left, 0.2) * 1000) + 1):
                return self.sock.recv_multipart()
            self.poll_monitor()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.disable_monitor()
            except Exception:
                pass
            self.sock.close(0)
            self.sock = None
        if self.monitor is not None:
            self.monitor.close(0)
            self.monitor = None

    def term(self):
        self.close()
        self.ctx.term()


class Stats:
    def __init__(self):
        self.messages_sent = 0
        self.acks_verified = 0
        self.unverified = 0
        self.mismatched = 0
        self.timeouts = 0
        self.reconnects = 0


def exchange(link, stats, args, frames, expect_sha, expect_seq, allow_nil_seq, ack_key):
    """Stop-and-wait: send the frames, wait for the ack that verifies and names them; on timeout
    reconnect and resend the same bytes, with backoff (WIRE.md 1, 1.1)."""
    backoff = 0.2
    last_handshake = None
    for attempt in range(args.retries + 1):
        if attempt > 0:
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            link.connect()
            stats.reconnects += 1
        link.send(frames)
        stats.messages_sent += 1
        deadline = time.monotonic() + args.timeout_s
        while True:
            msg = link.recv(max(0.0, deadline - time.monotonic()))
            if msg is None:
                stats.timeouts += 1
                last_handshake = link.handshake or last_handshake
                break
            try:
                ack = check_ack(msg, ack_key, expect_sha, expect_seq, allow_nil_seq)
            except AckIgnored as e:
                if e.kind == "unverified":
                    stats.unverified += 1
                else:
                    stats.mismatched += 1
                if args.verbose:
                    print(f"wire_client: ignored ack: {e}", file=sys.stderr)
                if args.socket == "req":
                    break  # a REQ gets one reply per request: resend
                continue
            stats.acks_verified += 1
            return ack
    why = last_handshake if last_handshake and last_handshake != "ok" else (
        "no verified ack" if last_handshake == "ok" else "no handshake completed")
    raise Fail(f"no ack for seq {expect_seq} from {args.endpoint} after {args.retries + 1} "
               f"tries of {args.timeout_s:g} s: {why}"
               + (f" ({stats.unverified} unverified, {stats.mismatched} mismatched acks ignored)"
                  if stats.unverified or stats.mismatched else ""))


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

def now_ms():
    return int(time.time() * 1000)


def make_batch(args, key, seq, index, created_ms=None, drive_id=None, tile_key=None, extra=None):
    u = created_ms if created_ms is not None else (
        args.created_unix_ms if args.created_unix_ms is not None else now_ms())
    status = None
    if args.vehicle_status:
        status = {"a": 1, "x": {}, "p": "wire-client", "w": "wire_client.py-1"}
    body = batch_body(seq, u, drive_id or args.drive_id, tile_key or args.tile, index,
                      queue_depth=max(0, args.batches - index - 1), status=status, extra=extra)
    body_bytes = pack(body)
    env = sign_envelope(key, KIND_BATCH, 0, args.vehicle_id.encode("ascii"), body_bytes)
    if len(env) > MAX_ENVELOPE_BYTES:
        raise Fail("envelope over 8 MiB")
    return env


def run_send(args, key, ack_key, link, stats):
    results = []
    counts = {"stored": 0, "duplicate": 0, "rejected": 0}
    for i in range(args.batches):
        seq = args.seq + i
        env = make_batch(args, key, seq, i)
        sha = hashlib.sha256(env).digest()
        entry = {"seq": seq, "sha256": sha.hex(), "bytes": len(env)}
        ack = exchange(link, stats, args, [env], sha, seq, True, ack_key)
        counts[ack["status"]] += 1
        entry["status"] = ack["status"]
        if ack["status"] == "rejected":
            raise Fail(f"seq {seq} rejected: {ack['reason']}"
                       + (" (seq nil: not authenticated)" if ack["seq"] is None else ""))
        if args.resend:
            ack2 = exchange(link, stats, args, [env], sha, seq, True, ack_key)
            counts[ack2["status"]] += 1
            entry["resend"] = ack2["status"]
            if ack2["status"] != "duplicate":
                raise Fail(f"seq {seq} sent again (same bytes): expected duplicate, got "
                           f"{ack2['status']}" + (f" ({ack2['reason']})" if ack2["reason"] else ""))
        results.append(entry)
    return {"mode": "send", "batchesSent": args.batches, "statuses": counts, "batches": results}


def run_tamper(args, key, ack_key, link, stats):
    mode = args.tamper
    want_status, want_code, want_seq, what = TAMPER[mode]
    vid = args.vehicle_id.encode("ascii")
    results = []
    for i in range(args.batches):
        seq = args.seq + i
        frames = None
        pre = None
        if mode == "signature":
            env = bytearray(make_batch(args, key, seq, i))
            flip = HEADER_FIXED + len(vid) + 3  # inside the msgpack body
            env[flip] ^= 0x01
            env = bytes(env)
        elif mode == "wrong-drive":
            env = make_batch(args, key, seq, i, drive_id=args.foreign_drive_id)
        elif mode == "seq-conflict":
            first = make_batch(args, key, seq, i)
            pre = exchange(link, stats, args, [first], hashlib.sha256(first).digest(), seq, True,
                           ack_key)
            if pre["status"] not in ("stored", "duplicate"):
                raise Fail(f"seq-conflict: the first batch of seq {seq} was {pre['status']}: {pre['reason']}")
            # other bytes under the same seq: same scene, one ms later
            u = unpack_plain(parse_envelope(first)["body"])["u"]
            env = make_batch(args, key, seq, i, created_ms=int(u) + 1)
        elif mode == "bad-time":
            env = make_batch(args, key, seq, i, created_ms=now_ms() - 31 * 86400 * 1000)
        elif mode == "bad-tile-key":
            z, x, y = args.tile.split("/")
            env = make_batch(args, key, seq, i, tile_key=f"{z}/0{x}/{y}")
        elif mode == "unknown-field":
            env = make_batch(args, key, seq, i, extra={"zz": 1})
        elif mode == "bad-msgpack":
            # u as a msgpack timestamp (extension -1, fixext 4): a map of 5 entries written by hand
            # (python3-msgpack's ExtType refuses negative type codes)
            body = (b"\x85" + pack("s") + pack(seq) + pack("u") + b"\xd6\xff"
                    + struct.pack(">I", now_ms() // 1000) + pack("q") + pack(0)
                    + pack("d") + pack([args.drive_id]) + pack("t") + pack([]))
            env = sign_envelope(key, KIND_BATCH, 0, vid, body)
        elif mode == "bad-kind":
            body = pack(batch_body(seq, now_ms(), args.drive_id, args.tile, i))
            env = sign_envelope(key, KIND_ACK, 0, vid, body)
        elif mode == "bad-version":
            body = pack(batch_body(seq, now_ms(), args.drive_id, args.tile, i))
            env = sign_envelope(key, KIND_BATCH, 0, vid, body, version=1)
        elif mode == "bad-flags":
            body = pack(batch_body(seq, now_ms(), args.drive_id, args.tile, i))
            env = sign_envelope(key, KIND_BATCH, 0x02, vid, body)
        elif mode == "truncated":
            env = make_batch(args, key, seq, i)[:-1]
        elif mode == "unknown-sender":
            body = pack(batch_body(seq, now_ms(), args.drive_id, args.tile, i))
            env = sign_envelope(key, KIND_BATCH, 0, b"no-such-vehicle-wire-client", body)
        elif mode == "bad-frames":
            env = make_batch(args, key, seq, i)
            frames = [env[:20], env[20:]]
        else:  # argparse restricts the choices
            raise Fail(f"unknown tamper mode {mode}")
        if frames is None:
            frames = [env]
            sha = hashlib.sha256(env).digest()
        else:
            # bad_frames: h = sha256 of the frames after the peer id, concatenated (WIRE.md 5);
            # a REQ socket's empty delimiter frame adds nothing to it
            sha = hashlib.sha256(b"".join(frames)).digest()
        ack = exchange(link, stats, args, frames, sha, seq, want_seq == "nil", ack_key)
        got = {"seq": seq, "sha256": sha.hex(), "status": ack["status"], "code": ack["code"],
               "ackSeq": ack["seq"], "reason": ack["reason"]}
        if pre is not None:
            got["first"] = pre["status"]
            got["firstSha256"] = hashlib.sha256(first).hexdigest()
        results.append(got)
        ok = ack["status"] == want_status or (mode == "wrong-drive" and ack["status"] == "duplicate")
        if ok and want_code is not None:
            ok = ack["code"] == want_code
        if ok and want_seq == "nil":
            ok = ack["seq"] is None
        if ok and want_seq == "seq":
            ok = ack["seq"] == seq
        if not ok:
            raise Fail(f"tamper {mode}: expected {want_status}"
                       + (f" {want_code}" if want_code else "")
                       + f" with seq {'nil' if want_seq == 'nil' else seq}, got {ack['status']}"
                       + f" seq {ack['seq'] if ack['seq'] is not None else 'nil'}"
                       + (f" ({ack['reason']})" if ack["reason"] else ""))
        if args.resend:
            ack2 = exchange(link, stats, args, frames, sha, seq, want_seq == "nil", ack_key)
            got["resend"] = ack2["status"]
            if mode == "wrong-drive":
                if ack2["status"] != "duplicate":
                    raise Fail(f"tamper {mode} resend: expected duplicate, got {ack2['status']}")
            elif (ack2["status"], ack2["code"]) != (ack["status"], ack["code"]):
                raise Fail(f"tamper {mode} resend: expected {ack['status']} {ack['code']} again, "
                           f"got {ack2['status']} {ack2['code']}")
    return {"mode": f"tamper:{mode}", "expected": {"status": want_status, "code": want_code,
                                                    "seq": want_seq},
            "sent": what, "batchesSent": args.batches, "results": results}


# ---------------------------------------------------------------------------------------------
# Self-test against the worked example (WIRE.md section 6), offline
# ---------------------------------------------------------------------------------------------

EXAMPLE_BATCH = ("464d020100077665682d3030310000005cde0005a17301a175cb427a0c4506c00000a17100a164"
                 "91a26437a17491de0002a16bae31362f33343330332f3232343734a16f929904ffa56465323035"
                 "ccff00d1fe0c3278d1feac9b0001a0cccc00d1ff0632d1fc18ccc8cd05dc0a3e4b9da8a2a36b31"
                 "e60d87030644964195bd3c428f9383d14b9b308490c00b39650eba5a176950ee9877c9a37aeb4f"
                 "774e7c3281c8a5bad6978147d1db5ab103")
EXAMPLE_ACK = ("464d020200000000002ede0003a17301a2737401a168c4205e3d615c5d708df037c324fcd06d6f4b"
               "c0b76460234443bf19ebf55ab2630522fb3b4e738a9ba05e8fec8efea8284743b21d8e884ebb10b4"
               "ce2a577036d2ee48784c55ba2fb35ad2c4b350ef649d58f014388e148b4668e80241fb0b01938800")


def self_test():
    """Rebuilds the worked example's envelopes byte for byte and checks the ack with check_ack."""
    import msgpack
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    vkey = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    akey = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    vpub = vkey.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    apub = akey.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    assert vpub == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", vpub
    assert apub == "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7", apub
    body = {"s": 1, "u": 1790000000000.0, "q": 0, "d": ["d7"], "t": [{"k": "16/34303/22474", "o": [
        row(4, -1, "de205", 255, 0, -500, 50, [(120, -340)]),
        row(0, 1, "", 204, 0, -250, 50, [(-1000, 200), (500, 210)]),
    ]}]}
    # msgpackr wrote u (beyond 32 bits) as float 64 and every map as map 16 (0xde), though
    # fixmap would do; any integer and map format is accepted (WIRE.md 3, 3.1)
    env = sign_envelope(vkey, KIND_BATCH, 0, b"veh-001", pack_map16(body))
    assert env.hex() == EXAMPLE_BATCH, "batch envelope differs from the worked example"
    sha = hashlib.sha256(env).digest()
    assert sha.hex() == "5e3d615c5d708df037c324fcd06d6f4bc0b76460234443bf19ebf55ab2630522"
    ack_bytes = bytes.fromhex(EXAMPLE_ACK)
    ack = check_ack([ack_bytes], akey.public_key(), sha, 1, True)
    assert ack == {"status": "stored", "seq": 1, "code": None, "reason": None}, ack
    rebuilt = sign_envelope(akey, KIND_ACK, 0, b"", pack_map16({"s": 1, "st": 1, "h": sha}))
    assert rebuilt == ack_bytes, "ack envelope differs from the worked example"
    for bad, kind in ((ack_bytes[:-1] + bytes([ack_bytes[-1] ^ 1]), "unverified"),):
        try:
            check_ack([bad], akey.public_key(), sha, 1, True)
            raise AssertionError("tampered ack accepted")
        except AckIgnored as e:
            assert e.kind == kind
    try:
        check_ack([ack_bytes], akey.public_key(), sha, 2, True)
        raise AssertionError("ack for another seq accepted")
    except AckIgnored as e:
        assert e.kind == "mismatched"
    # the batch as an integer-only encoding (what this client sends) decodes to the same body
    env2 = sign_envelope(vkey, KIND_BATCH, 0, b"veh-001",
                         pack(dict(body, u=1790000000000)))
    assert unpack_plain(parse_envelope(env2)["body"]) == unpack_plain(parse_envelope(env)["body"])
    return {"selfTest": "ok", "batchBytes": len(env), "ackBytes": len(ack_bytes)}


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = Parser(
        prog="wire_client.py",
        description="Independent fleetmap uplink client (docs/WIRE.md): sends signed msgpack "
                    "batches over ZeroMQ CURVE to a fleetmap ingest and verifies every ack.",
        epilog="tamper modes: " + "; ".join(f"{k}: {v[3]} -> expects {v[0]}"
                                            + (f" {v[1]}" if v[1] else "")
                                            for k, v in TAMPER.items()))
    p.add_argument("--endpoint", help="ingest ROUTER endpoint, e.g. tcp://127.0.0.1:5700")
    p.add_argument("--vehicle-id", help="vehicle id, [A-Za-z0-9._-]{1,64}")
    p.add_argument("--key-file", help="vehicle Ed25519 private key (PEM PKCS#8 or 64 hex digits)")
    p.add_argument("--curve-keypair", help="vehicle CURVE keypair file (JSON {publicKey, secretKey}, Z85)")
    p.add_argument("--ingest-curve-public-key-file", metavar="FILE",
                   help="file with the ingest's CURVE public key (40 Z85 characters, or the "
                        "ingest's keypair JSON)")
    p.add_argument("--ingest-curve-public-key", metavar="Z85",
                   help="the ingest's CURVE public key itself (instead of the file)")
    p.add_argument("--ingest-ack-key", metavar="FILE",
                   help="the ingest's Ed25519 ack public key (PEM SPKI or 64 hex digits)")
    p.add_argument("--drive-id", default="drive-0001", help="drive id (default drive-0001)")
    p.add_argument("--batches", type=int, default=3, help="number of batches (default 3)")
    p.add_argument("--seq", type=int, default=1, help="sequence number of the first batch (default 1)")
    p.add_argument("--tile", default="16/34297/22504", help="z16 tile key (default 16/34297/22504)")
    p.add_argument("--created-unix-ms", type=int, default=None,
                   help="fixed createdUnixMs for every batch (same bytes on every run)")
    p.add_argument("--vehicle-status", action="store_true", help="add the optional status map h")
    p.add_argument("--socket", choices=("dealer", "req"), default="dealer")
    p.add_argument("--timeout-s", type=float, default=5.0, help="ack timeout (default 5)")
    p.add_argument("--retries", type=int, default=3,
                   help="resends of the same bytes after a timeout (default 3)")
    p.add_argument("--resend", action="store_true",
                   help="send every batch twice; the second answer must be duplicate")
    p.add_argument("--tamper", choices=sorted(TAMPER), metavar="MODE",
                   help="send bad messages and expect the documented refusal: "
                        + ", ".join(sorted(TAMPER)))
    p.add_argument("--foreign-drive-id", default="other-vehicle/drive-0001",
                   help="drive id used by --tamper wrong-drive (default other-vehicle/drive-0001)")
    p.add_argument("--insecure-no-curve", action="store_true",
                   help="no CURVE (only against an ingest started with --insecure-no-curve)")
    p.add_argument("--self-test", action="store_true",
                   help="offline: rebuild and check the worked example of docs/WIRE.md section 6")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    if args.self_test:
        return args
    missing = [n for n in ("endpoint", "vehicle_id", "key_file", "ingest_ack_key")
               if getattr(args, n) is None]
    if not args.insecure_no_curve:
        if args.curve_keypair is None:
            missing.append("curve_keypair")
        if (args.ingest_curve_public_key is None) == (args.ingest_curve_public_key_file is None):
            raise UsageError("give exactly one of --ingest-curve-public-key-file, --ingest-curve-public-key")
    if missing:
        raise UsageError("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    if not VEHICLE_ID_RE.match(args.vehicle_id) or args.vehicle_id in (".", "..") \
            or ".tmp-" in args.vehicle_id or args.vehicle_id in PROTO_NAMES:
        raise UsageError(f"--vehicle-id {args.vehicle_id!r} is not a valid vehicle id")
    if not DRIVE_ID_RE.match(args.drive_id):
        raise UsageError("--drive-id must be 1..64 printable ASCII characters (0x21-0x7e)")
    if not DRIVE_ID_RE.match(args.foreign_drive_id):
        raise UsageError("--foreign-drive-id must be 1..64 printable ASCII characters (0x21-0x7e)")
    if not canonical_tile_key(args.tile):
        raise UsageError("--tile must be a canonical z16 tile key 16/x/y")
    if args.batches < 1:
        raise UsageError("--batches must be >= 1")
    if not 1 <= args.seq or args.seq + args.batches - 1 > 2 ** 53 - 1:
        raise UsageError("--seq must be in 1 .. 2^53-1")
    if args.timeout_s <= 0 or args.retries < 0:
        raise UsageError("--timeout-s must be > 0 and --retries >= 0")
    if not re.match(r"^(tcp|ipc|inproc)://", args.endpoint):
        raise UsageError("--endpoint must be tcp://HOST:PORT, ipc://PATH or inproc://NAME")
    return args


def main(argv):
    try:
        args = parse_args(argv)
    except UsageError as e:
        print("wire_client.py: usage error: " + " ".join(str(e).split()) + " (see --help)",
              file=sys.stderr)
        return 2
    link = None
    try:
        try:
            import zmq  # noqa: F401
            import msgpack  # noqa: F401
            import cryptography  # noqa: F401
        except ImportError as e:
            raise Fail(f"missing Debian package: {e.name} (apt-get install python3-zmq python3-msgpack python3-cryptography)")
        if args.self_test:
            try:
                print(json.dumps(self_test()))
            except AssertionError as e:
                raise Fail(f"self-test failed: {e}")
            return 0
        key = load_signing_key(args.key_file)
        ack_key = load_ack_public_key(args.ingest_ack_key)
        if args.insecure_no_curve:
            curve_pub = curve_sec = server_pub = None
        else:
            curve_pub, curve_sec = load_curve_keypair(args.curve_keypair)
            server_pub = (z85_key(args.ingest_curve_public_key, "--ingest-curve-public-key")
                          if args.ingest_curve_public_key is not None
                          else load_curve_public(args.ingest_curve_public_key_file))
        stats = Stats()
        link = Link(args, curve_pub, curve_sec, server_pub)
        t0 = time.monotonic()
        summary = run_tamper(args, key, ack_key, link, stats) if args.tamper \
            else run_send(args, key, ack_key, link, stats)
        out = {"ok": True, "endpoint": args.endpoint, "vehicleId": args.vehicle_id,
               "socket": args.socket}
        out.update(summary)
        out.update({"messagesSent": stats.messages_sent, "acksVerified": stats.acks_verified,
                    "unverifiedAcks": stats.unverified, "mismatchedAcks": stats.mismatched,
                    "timeouts": stats.timeouts, "reconnects": stats.reconnects,
                    "elapsedMs": round((time.monotonic() - t0) * 1000)})
        print(json.dumps(out, separators=(",", ":")))
        return 0
    except Fail as e:
        print("wire_client.py: " + " ".join(str(e).split()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wire_client.py: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # no traceback: one line
        print(f"wire_client.py: unexpected {type(e).__name__}: " + " ".join(str(e).split()),
              file=sys.stderr)
        return 1
    finally:
        if link is not None:
            try:
                link.term()
            except Exception:
                pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
