/**
 * CurveZMQ on the uplink (zeromq `capability.curve`), on by default: the ingest holds a long-term
 * server keypair (`--curve-keypair FILE`, made once with `--curve-generate`); vehicles pin its
 * public key and hold their own keypair, whose public half is in the registry and is admitted by
 * the ZAP handler (zap.ts) only while the vehicle is registered and active. The batch signature
 * still authenticates every batch end to end. The key formats live in shared/curve.ts.
 */
export { generateCurveKeypair, isZ85Key, readCurveKeypair, z85Decode, z85Encode, type CurveKeypair } from '../../shared/curve.ts';
