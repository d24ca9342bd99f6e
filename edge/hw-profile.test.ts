import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HW_PROFILES_DIR, HwProfileError, detectHwProfile, loadHwProfile, validateHwProfile } from './hw-profile.ts';

const dev = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(HW_PROFILES_DIR, 'x86_64-dev.json'), 'utf8'));

describe('hw profiles', () => {
  it('loads and validates x86_64-dev by name', () => {
    const p = loadHwProfile('x86_64-dev');
    expect(p.inference.executionProviders).toEqual(['cpu']);
    expect(p.outbox.maxDiskMb).toBeGreaterThan(0);
  });
  it('detects x86_64-dev on x64', () => {
    expect(detectHwProfile({ arch: 'x64' }).name).toBe('x86_64-dev');
    expect(() => detectHwProfile({ arch: 'riscv64' })).toThrow(/no profile .* matches arch "riscv64"/);
  });
  it('names every bad field and its value', () => {
    const p = dev();
    (p.outbox as Record<string, unknown>).maxDiskMb = -5;
    (p.inference as Record<string, unknown>).executionProviders = ['tensorrt', 'gpu'];
    delete (p.uplink as Record<string, unknown>).ackTimeoutMs;
    try {
      validateHwProfile(p, 'x.json');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HwProfileError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/outbox.maxDiskMb must be a number in \[1, 1000000\], got -5/);
      expect(msg).toMatch(/inference.executionProviders\[1\] must be one of .*, got "gpu"/);
      expect(msg).toMatch(/uplink.ackTimeoutMs must be an integer .* got undefined \(missing\)/);
    }
  });
  it('fits a Jetson profile (tensorrt, cuda, cpu; told apart by device-tree model)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-hw-'));
    writeFileSync(path.join(dir, 'x86_64-dev.json'), JSON.stringify(dev()));
    const orin = { ...dev(), name: 'jetson-orin', detect: { arch: ['arm64'], deviceTreeModelIncludes: 'Orin' }, inference: { executionProviders: ['tensorrt', 'cuda', 'cpu'], intraOpThreads: 6, interOpThreads: 2 } };
    writeFileSync(path.join(dir, 'jetson-orin.json'), JSON.stringify(orin));
    expect(detectHwProfile({ arch: 'arm64', deviceTreeModel: 'NVIDIA Jetson AGX Orin Developer Kit' }, dir).name).toBe('jetson-orin');
    expect(() => detectHwProfile({ arch: 'arm64', deviceTreeModel: 'Raspberry Pi 5' }, dir)).toThrow(HwProfileError);
    expect(loadHwProfile(path.join(dir, 'jetson-orin.json')).inference.executionProviders).toEqual(['tensorrt', 'cuda', 'cpu']);
  });
  it('refuses a profile whose name is not its file name, and unknown names', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fm-hw-'));
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify(dev()));
    expect(() => loadHwProfile('other', dir)).toThrow(/name must equal the file name "other", got "x86_64-dev"/);
    expect(() => loadHwProfile('nope', dir)).toThrow(/no such profile file .* \(known profiles: other\)/);
  });
});
