/**
 * The set of stored batches merged so far, compact: per vehicle, sorted inclusive ranges of
 * sequence numbers (`batches/<vehicleId>/<seq:10>.fmb`); keys of another shape are listed as they
 * are. Written with every version (tiles/v<N>/inputs.json): merge N+1 reads only batches not in it.
 */
export const INPUTS_FORMAT = 'fleetmap.merge.inputs';
export const INPUTS_VERSION = 1;

const KEY_RE = /^batches\/([^/]+)\/(\d{10})\.fmb$/;

export interface BatchSetJson {
  f: typeof INPUTS_FORMAT;
  v: typeof INPUTS_VERSION;
  /** vehicleId -> [[fromSeq, toSeq], ...], inclusive, ascending, disjoint, not adjacent. */
  ranges: Record<string, Array<[number, number]>>;
  other: string[];
  count: number;
}

export class BatchSet {
  private readonly seqs = new Map<string, Set<number>>();
  private readonly other = new Set<string>();

  static fromJson(raw: unknown, where: string): BatchSet {
    const j = raw as Partial<BatchSetJson>;
    if (!j || j.f !== INPUTS_FORMAT) throw new Error(`${where} is not a consumed-batch set`);
    if (j.v !== INPUTS_VERSION) throw new Error(`${where}: got inputs v${String(j.v)} data, expected v${INPUTS_VERSION}`);
    const s = new BatchSet();
    for (const [vehicle, ranges] of Object.entries(j.ranges ?? {})) {
      const set = new Set<number>();
      for (const [a, b] of ranges) for (let q = a; q <= b; q++) set.add(q);
      s.seqs.set(vehicle, set);
    }
    for (const k of j.other ?? []) s.other.add(k);
    return s;
  }

  has(key: string): boolean {
    const m = KEY_RE.exec(key);
    return m ? (this.seqs.get(m[1]!)?.has(Number(m[2])) ?? false) : this.other.has(key);
  }

  add(key: string): void {
    const m = KEY_RE.exec(key);
    if (!m) {
      this.other.add(key);
      return;
    }
    let set = this.seqs.get(m[1]!);
    if (!set) this.seqs.set(m[1]!, (set = new Set()));
    set.add(Number(m[2]));
  }

  get size(): number {
    let n = this.other.size;
    for (const s of this.seqs.values()) n += s.size;
    return n;
  }

  toJson(): BatchSetJson {
    const ranges: Record<string, Array<[number, number]>> = {};
    for (const vehicle of [...this.seqs.keys()].sort()) {
      const out: Array<[number, number]> = [];
      for (const q of [...this.seqs.get(vehicle)!].sort((a, b) => a - b)) {
        const last = out[out.length - 1];
        if (last && last[1] === q - 1) last[1] = q;
        else out.push([q, q]);
      }
      ranges[vehicle] = out;
    }
    return { f: INPUTS_FORMAT, v: INPUTS_VERSION, ranges, other: [...this.other].sort(), count: this.size };
  }
}
