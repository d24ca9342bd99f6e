import { describe, expect, it } from 'vitest';
import { DEFAULT_GNSS_ERROR_OPTIONS, GnssErrorModel } from './gnss-error.ts';
import { deriveSeed, Rng } from './rng.ts';

describe('GnssErrorModel', () => {
  it('draws a per-drive bias with sigma ~ biasSigmaM across drives', () => {
    const biases: number[] = [];
    for (let d = 0; d < 600; d++) {
      const m = new GnssErrorModel(new Rng(deriveSeed('bias', d)), 60);
      biases.push(m.biasEastM, m.biasNorthM);
    }
    const mean = biases.reduce((s, b) => s + b, 0) / biases.length;
    const sigma = Math.sqrt(biases.reduce((s, b) => s + (b - mean) ** 2, 0) / biases.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sigma).toBeGreaterThan(0.9);
    expect(sigma).toBeLessThan(1.1);
    const half = new GnssErrorModel(new Rng(1), 60, { biasSigmaM: 0 });
    expect(half.biasEastM).toBe(0);
  });

  it('errors centre on the bias, with outages and multipath jumps at about the documented rates', () => {
    const hz = 10;
    const durationS = 3600;
    const m = new GnssErrorModel(new Rng(77), durationS);
    let outages = 0;
    let sumE = 0;
    let sumN = 0;
    let normal = 0;
    let maxJumpM = 0;
    let accuracyInOutage = 0;
    for (let k = 0; k <= durationS * hz; k++) {
      const e = m.sample(k / hz, 10);
      if (e.fixType === 'none') {
        outages++;
        if (!Number.isNaN(e.horizontalAccuracyM)) accuracyInOutage++;
        continue;
      }
      if (e.multipath) {
        maxJumpM = Math.max(maxJumpM, Math.hypot(e.eastErrM - m.biasEastM, e.northErrM - m.biasNorthM));
        continue;
      }
      sumE += e.eastErrM;
      sumN += e.northErrM;
      normal++;
    }
    // Away from multipath the mean error is the bias (drift and noise average out over an hour).
    expect(Math.abs(sumE / normal - m.biasEastM)).toBeLessThan(0.25);
    expect(Math.abs(sumN / normal - m.biasNorthM)).toBeLessThan(0.25);
    expect(accuracyInOutage).toBe(0);
    const mp = m.events.filter((e) => e.kind === 'multipath');
    const out = m.events.filter((e) => e.kind === 'outage');
    expect(mp.length).toBeGreaterThan(0.5 * DEFAULT_GNSS_ERROR_OPTIONS.multipathPerMin * 60);
    expect(mp.length).toBeLessThan(1.5 * DEFAULT_GNSS_ERROR_OPTIONS.multipathPerMin * 60);
    expect(out.length).toBeGreaterThan(0.5 * DEFAULT_GNSS_ERROR_OPTIONS.outagesPerMin * 60);
    for (const e of mp) expect(Math.hypot(e.eastM, e.northM)).toBeGreaterThanOrEqual(3);
    for (const e of mp) expect(Math.hypot(e.eastM, e.northM)).toBeLessThanOrEqual(8);
    expect(maxJumpM).toBeGreaterThan(3);
    // Outage samples: about the outage share of the time.
    const outShare = out.reduce((s, e) => s + e.endS - e.startS, 0) / durationS;
    expect(outages / (durationS * hz)).toBeCloseTo(outShare, 2);
  });

  it('drifts slowly: tens of centimetres over minutes', () => {
    const m = new GnssErrorModel(new Rng(5), 1200, { noiseSigmaM: 0, multipathPerMin: 0, outagesPerMin: 0 });
    const e0 = m.sample(0, 10);
    const e1 = m.sample(1, 10);
    const e600 = m.sample(600, 10);
    expect(Math.hypot(e1.eastErrM - e0.eastErrM, e1.northErrM - e0.northErrM)).toBeLessThan(0.1);
    expect(Math.hypot(e600.eastErrM - m.biasEastM, e600.northErrM - m.biasNorthM)).toBeLessThan(1.5);
    expect(() => m.sample(500, 10)).toThrow(/backwards/);
  });

  it('reports unknown course at standstill and validates options', () => {
    const m = new GnssErrorModel(new Rng(5), 10, { outagesPerMin: 0 });
    expect(Number.isNaN(m.sample(0, 0).courseErrRad)).toBe(true);
    expect(Number.isNaN(m.sample(1, 5).courseErrRad)).toBe(false);
    expect(() => new GnssErrorModel(new Rng(1), 10, { biasSigmaM: -1 })).toThrow(/biasSigmaM/);
    expect(() => new GnssErrorModel(new Rng(1), 10, { multipathJumpM: [8, 3] })).toThrow(/multipathJumpM/);
  });
});
