/**
 * docs/WIRE.md stays true: its worked example is exactly what the code generates, its envelopes
 * decode and verify with the keys it names, and its tables list the codes the code uses.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACK_STATUS_CODES,
  BOUNDARY_KIND_CODES,
  CLASS_CODES,
  CODEC_ERROR_CODES,
  DIVIDER_STYLE_CODES,
  decodeAck,
  decodeBatch,
  publicKeyFromRaw,
  sha256,
} from '../shared/index.ts';
import { REPO } from './helpers.ts';
import { EXAMPLE_BATCH, renderWireExample } from './wire-example.ts';

const doc = readFileSync(path.join(REPO, 'docs', 'WIRE.md'), 'utf8');

describe('docs/WIRE.md', () => {
  it('holds the generated worked example, byte for byte', () => {
    const m = /<!-- wire-example:begin -->\n([\s\S]*)\n<!-- wire-example:end -->/.exec(doc);
    expect(m, 'example markers').not.toBeNull();
    expect(m![1]).toBe(renderWireExample());
  });

  it('its envelopes decode and verify with the public keys it names', () => {
    const hex = (label: string): Buffer => Buffer.from(new RegExp(`^${label} ([0-9a-f]+)$`, 'm').exec(doc)![1]!, 'hex');
    const key = (who: string): Buffer => Buffer.from(new RegExp(`${who}[^\\n]*public key \`([0-9a-f]{64})\``).exec(doc)![1]!, 'hex');
    const batch = hex('batch');
    const ack = hex('ack');
    const vehicleKey = publicKeyFromRaw(key('Vehicle `veh-001`'));
    const decoded = decodeBatch(batch, (id) => (id === 'veh-001' ? vehicleKey : undefined));
    expect(decoded).toEqual({ ...EXAMPLE_BATCH, observations: EXAMPLE_BATCH.observations.map((o) => ({ ...o, score: Math.round(o.score * 255) / 255 })) });
    expect(decodeAck(ack, publicKeyFromRaw(key('Ingest ack key')))).toEqual({ seq: 1, status: 'stored', batchSha256: sha256(batch) });
  });

  it('lists every enum code and refusal code the code uses', () => {
    for (const table of [CLASS_CODES, DIVIDER_STYLE_CODES, BOUNDARY_KIND_CODES, ACK_STATUS_CODES] as Array<Record<string, number>>) {
      for (const [name, code] of Object.entries(table)) expect(doc, name).toMatch(new RegExp(`\\| ${name} \\| ${code} \\|`));
    }
    for (const code of [...CODEC_ERROR_CODES, 'seq_conflict', 'bad_frames']) expect(doc, code).toContain(`| \`${code}\` |`);
  });
});
