import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HW_PROFILES_DIR,
  HwProfileError,
  detectHwProfile,
  executionProviderNames,
  listHwProfiles,
  loadHwProfile,
  onnxruntimeSessionOptions,
  validateHwProfile,
} from './hw-profile.ts';

const JETSONS = ['jetson-agx-orin', 'jetson-orin-nano', 'jetson-orin-nx', 'jetson-xavier-nx'];
const raw = (name: string): Record<string, Record<string, unknown>> => JSON.parse(readFileSync(path.join(HW_PROFILES_DIR, `${name}.json`), 'utf8'));
/** The validation message for a profile, or '' when it validates. */
const problemsOf = (p: unknown): string => {
  try {
    validateHwProfile(p, 'x.json');
    return '';
  } catch (e) {
    expect(e).toBeInstanceOf(HwProfileError);
    return (e as Error).message;
  }
};

describe('hw profiles', () => {
  it('ships one valid v2 profile per device class', () => {
    expect(listHwProfiles()).toEqual([...JETSONS, 'x86-64']);
    for (const name of listHwProfiles()) {
      const p = loadHwProfile(name);
      expect(p.schemaVersion).toBe(2);
      expect(p.perception.skipPolicy).toBe('latest');
      expect(p.inference.modelVariant).toBe('fleetmap-seg');
      expect([p.inference.inputWidthPx, p.inference.inputHeightPx]).toEqual([256, 128]); // docs/PERCEPTION.md §4
    }
    for (const name of JETSONS) {
      const p = loadHwProfile(name);
      expect(executionProviderNames(p)).toEqual(['tensorrt', 'cuda', 'cpu']);
      expect(p.detect.arch).toEqual(['arm64']);
      expect(p.uplink.maxKbps).toBeGreaterThan(0); // cellular
    }
    expect(executionProviderNames(loadHwProfile('x86-64'))).toEqual(['cpu']);
  });

  it('still loads the old name x86_64-dev', () => {
    expect(loadHwProfile('x86_64-dev').name).toBe('x86-64');
  });

  it('detects each Jetson from its device-tree model, and x86-64 from the arch', () => {
    const models: Array<[string, string]> = [
      ['NVIDIA Jetson AGX Orin Developer Kit', 'jetson-agx-orin'],
      ['Jetson AGX Orin', 'jetson-agx-orin'],
      ['NVIDIA Jetson Orin NX Engine Board', 'jetson-orin-nx'],
      ['NVIDIA Orin NX Developer Kit', 'jetson-orin-nx'],
      ['NVIDIA Jetson Orin Nano Developer Kit', 'jetson-orin-nano'],
      ['NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super', 'jetson-orin-nano'],
      ['NVIDIA Jetson Xavier NX Developer Kit', 'jetson-xavier-nx'],
    ];
    for (const [model, name] of models) expect(detectHwProfile({ arch: 'arm64', deviceTreeModel: model }).name, model).toBe(name);
    expect(detectHwProfile({ arch: 'x64' }).name).toBe('x86-64');
    expect(() => detectHwProfile({ arch: 'arm64', deviceTreeModel: 'Raspberry Pi 5 Model B Rev 1.0' })).toThrow(/no profile .* matches arch "arm64", device-tree model "Raspberry Pi 5/);
    expect(() => detectHwProfile({ arch: 'arm64' })).toThrow(/no profile .* matches arch "arm64"; pass --hw-profile NAME/);
    expect(() => detectHwProfile({ arch: 'riscv64' })).toThrow(/no profile .* matches arch "riscv64"/);
  });

  it('refuses to guess when two profiles match the same board', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-hw-'));
    for (const name of ['jetson-orin-nx', 'x86-64']) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(raw(name)));
    writeFileSync(path.join(dir, 'any-orin.json'), JSON.stringify({ ...raw('jetson-orin-nx'), name: 'any-orin', detect: { arch: ['arm64'], deviceTreeModelIncludes: 'Orin' } }));
    expect(() => detectHwProfile({ arch: 'arm64', deviceTreeModel: 'NVIDIA Jetson Orin NX Engine Board' }, dir)).toThrow(/2 profiles match .* \(any-orin, jetson-orin-nx\); pass --hw-profile NAME/);
  });

  it('names every bad field and its value', () => {
    const p = raw('jetson-orin-nx');
    p.outbox!.maxDiskMb = -5;
    p.inference!.executionProviders = [{ name: 'tensorrt', options: { fp16: 'yes', engineCacheDir: 'trt', int4: true } }, { name: 'gpu' }, 'cpu'];
    p.inference!.inputWidthPx = 255.5;
    p.perception!.skipPolicy = 'oldest';
    p.perception!.roadSlope = 'on';
    p.inference!.thread = 'gpu';
    p.outbox!.syncEveryMs = 20_000;
    delete p.uplink!.ackTimeoutMs;
    p.uplink!.maxKpbs = 100;
    const msg = problemsOf(p);
    expect(msg).toMatch(/outbox.maxDiskMb must be a number in \[1, 1000000\], got -5/);
    expect(msg).toMatch(/inference.executionProviders\[0\].options.fp16 must be true or false, got "yes"/);
    expect(msg).toMatch(/inference.executionProviders\[0\].options.engineCacheDir must be an absolute directory path, got "trt"/);
    expect(msg).toMatch(/inference.executionProviders\[0\].options.int4 is not a tensorrt option \(known: deviceId, fp16, engineCacheDir, maxWorkspaceMb\), got true/);
    expect(msg).toMatch(/inference.executionProviders\[1\].name must be one of .*, got "gpu"/);
    expect(msg).toMatch(/inference.executionProviders\[2\] must be an object \{name, options\?\} .*, got "cpu"/);
    expect(msg).toMatch(/inference.inputWidthPx must be an integer in \[16, 4096\], got 255.5/);
    expect(msg).toMatch(/perception.skipPolicy must be one of "latest", got "oldest"/);
    expect(msg).toMatch(/perception.roadSlope must be true or false when present, got "on"/);
    expect(msg).toMatch(/inference.thread must be one of "worker", "main" when present, got "gpu"/);
    expect(msg).toMatch(/outbox.syncEveryMs must be an integer in \[0, 10000\], got 20000/);
    expect(msg).toMatch(/uplink.ackTimeoutMs must be an integer .* got undefined \(missing\)/);
    expect(msg).toMatch(/uplink.maxKpbs is not a known key .*, got 100/);
  });

  it('validates the disk-budget policy and the metered-link fields, naming each', () => {
    for (const name of listHwProfiles()) {
      const p = loadHwProfile(name);
      expect(p.outbox.dropWhenFull).toEqual(['dead_letters', 'pending', 'batches']); // formed batches last
      if (p.uplink.maxKbps > 0) expect(p.uplink.meteredMaxKbps).toBeLessThanOrEqual(p.uplink.maxKbps);
    }
    const p = raw('jetson-orin-nx');
    p.outbox!.dropWhenFull = ['pending', 'pending', 'everything'];
    p.outbox!.dropToPercent = 100;
    p.outbox!.classPriority = { lane_divider: 4, road_boundary: 11, stop_line: 7, crosswalk: 6, traffic_sign: 8, traffic_lite: 8 };
    p.uplink!.meteredMaxKbps = 5000;
    p.uplink!.meteredMinPriority = -1;
    const msg = problemsOf(p);
    expect(msg).toMatch(/outbox.dropWhenFull must be a list of "dead_letters", "pending", "batches" without repeats, .*, got \["pending","pending","everything"\]/);
    expect(msg).toMatch(/outbox.dropToPercent must be an integer in \[50, 99\], got 100/);
    expect(msg).toMatch(/outbox.classPriority.traffic_lite is not a known key/);
    expect(msg).toMatch(/outbox.classPriority.road_boundary must be an integer in \[0, 9\], got 11/);
    expect(msg).toMatch(/outbox.classPriority.traffic_light must be an integer in \[0, 9\], got undefined/);
    expect(msg).toMatch(/uplink.meteredMaxKbps must be in \(0, uplink.maxKbps \(1000\)\].*, got 5000/);
    expect(msg).toMatch(/uplink.meteredMinPriority must be an integer in \[0, 10\], got -1/);
    const q = raw('jetson-orin-nano');
    q.uplink!.meteredMaxKbps = 64; // 131072 B at 64 kbit/s = 16384 ms > the 15 s ack timeout
    expect(problemsOf(q)).toMatch(/uplink.ackTimeoutMs must be > 16384 ms, the time outbox.batchMaxBytes \(131072\) takes at uplink.meteredMaxKbps \(64\), got 15000/);
  });

  it('checks the fields against each other', () => {
    const p = raw('jetson-orin-nano');
    p.inference!.executionProviders = [{ name: 'cpu' }, { name: 'cuda' }, { name: 'cuda' }];
    p.uplink!.maxKbps = 64; // 131072 B at 64 kbit/s = 16384 ms > the 15 s ack timeout
    const msg = problemsOf(p);
    expect(msg).toMatch(/inference.executionProviders\[\].name must be names without repeats, got \["cpu","cuda","cuda"\]/);
    expect(msg).toMatch(/inference.executionProviders must be a list with "cpu" last .*, got \["cpu","cuda","cuda"\]/);
    expect(msg).toMatch(/uplink.ackTimeoutMs must be > 16384 ms, the time outbox.batchMaxBytes \(131072\) takes at uplink.maxKbps \(64\), got 15000/);
  });

  it('refuses a v1 profile with what v2 adds', () => {
    const v1 = { ...raw('x86-64'), schemaVersion: 1 };
    expect(problemsOf(v1)).toMatch(/schemaVersion must be 2, got 1 \(v2 writes executionProviders as \{name, options\}/);
  });

  it('maps the providers to onnxruntime-node session options', () => {
    expect(onnxruntimeSessionOptions(loadHwProfile('jetson-orin-nx'))).toEqual({
      executionProviders: [
        { name: 'tensorrt', deviceId: 0, trtFp16Enable: true, trtEngineCacheEnable: true, trtEngineCachePath: '/var/cache/fleetmap/trt', trtMaxWorkspaceSize: 1024 * 1024 * 1024 },
        { name: 'cuda', deviceId: 0 },
        { name: 'cpu' },
      ],
      intraOpNumThreads: 4,
      interOpNumThreads: 1,
    });
  });

  it('refuses a profile whose name is not its file name, and unknown names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-hw-'));
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify(raw('x86-64')));
    expect(() => loadHwProfile('other', dir)).toThrow(/name must equal the file name "other", got "x86-64"/);
    expect(() => loadHwProfile('nope', dir)).toThrow(/no such profile file .* \(known profiles: other\)/);
    expect(loadHwProfile(path.join(dir, 'other.json')).name).toBe('x86-64'); // by path: any name
  });
});
