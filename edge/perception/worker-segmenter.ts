/**
 * The Segmenter in a worker thread (segment-worker-entry.ts), so inference never holds the
 * daemon's thread. onnxruntime-node's `run` computes on the calling thread (its promise only
 * defers the start to setImmediate): in-process, every frame's inference stalls the intake, the
 * uplink and the local map for its whole duration, and the two cores of a small vehicle computer
 * take turns instead of working together. Here the worker segments frame N+1 while the daemon's
 * thread fuses frame N into the local map (CameraPerception pipelines when `pipelined`).
 *
 * Each result is the worker's own copy, handed over: it stays valid while the next frame runs.
 * Provider fallbacks found while the worker created its session are reported through `onWarn`
 * as if in-process. A worker that dies fails the run in flight and every later one.
 */
import type { Worker } from 'node:worker_threads';
import type { CameraFrame } from '../../shared/camera-frame.ts';
import { startTsWorker } from '../../shared/ts-worker.ts';
import type { ExecutionProvider } from '../hw-profile.ts';
import type { SegOutput } from './decode.ts';
import { ModelError, type ModelMetadata, type ProviderFallback, type SegmenterOptions, type SegmenterTimings } from './model.ts';

/** What the worker is created with: SegmenterOptions without the callbacks (they cannot cross threads). */
export type SegmentWorkerInit = Omit<SegmenterOptions, 'onWarn' | 'providerPresent' | 'create'>;

type Warning = { event: string; fields: Record<string, string | number | boolean | null> };

export type SegmentWorkerReply =
  | { kind: 'ready'; provider: ExecutionProvider; fallbacks: ProviderFallback[]; classPriorAlpha: number; metadata: ModelMetadata; warnings: Warning[]; inputWidthPx: number; inputHeightPx: number }
  | { kind: 'init-failed'; message: string; warnings: Warning[] }
  | { kind: 'result'; id: number; out: SegOutput; timings: SegmenterTimings }
  | { kind: 'run-failed'; id: number; message: string };

export class WorkerSegmenter {
  /** Results are independent buffers and runs leave this thread free: the caller may pipeline. */
  readonly pipelined = true;
  /** Per-stage time of the last run inside the worker, milliseconds. */
  readonly timings: SegmenterTimings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0 };
  private inFlight: { id: number; resolve: (s: SegOutput) => void; reject: (e: Error) => void } | undefined;
  private nextId = 1;
  private dead: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly ready: Extract<SegmentWorkerReply, { kind: 'ready' }>,
    readonly modelPath: string,
  ) {
    worker.on('message', (m: SegmentWorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new Error(`segment worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`segment worker exited (code ${code})`)));
  }

  static async create(options: SegmenterOptions): Promise<WorkerSegmenter> {
    const { onWarn, providerPresent, create, ...init } = options;
    if (providerPresent || create) throw new RangeError('WorkerSegmenter: providerPresent and create cannot cross into a worker thread');
    const worker = startTsWorker(new URL('./segment-worker-entry.ts', import.meta.url));
    const reply = await new Promise<SegmentWorkerReply>((resolve, reject) => {
      const onError = (e: Error): void => reject(new ModelError(options.modelPath, [`segment worker failed to start: ${e.message}`]));
      const onExit = (code: number): void => reject(new ModelError(options.modelPath, [`segment worker exited (code ${code}) before it was ready`]));
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.once('message', (m: SegmentWorkerReply) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(m);
      });
      worker.postMessage({ kind: 'init', options: init satisfies SegmentWorkerInit });
    });
    if (reply.kind === 'ready' || reply.kind === 'init-failed') for (const w of reply.warnings) onWarn?.(w.event, w.fields);
    if (reply.kind !== 'ready') {
      await worker.terminate();
      throw new ModelError(options.modelPath, [reply.kind === 'init-failed' ? reply.message : `segment worker answered ${reply.kind} to init`]);
    }
    return new WorkerSegmenter(worker, reply, options.modelPath);
  }

  /** The frame is copied (its pixels may be a view into a message buffer); one run at a time. */
  run(frame: CameraFrame): Promise<SegOutput> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.inFlight) return Promise.reject(new Error('WorkerSegmenter.run: a run is already in progress (one frame at a time)'));
    const id = this.nextId++;
    const pixels = frame.pixels.slice();
    return new Promise<SegOutput>((resolve, reject) => {
      this.inFlight = { id, resolve, reject };
      this.worker.postMessage({ kind: 'run', id, frame: { ...frame, pixels } }, [pixels.buffer]);
    });
  }

  get model(): { onnxPath: string; metadata: ModelMetadata } {
    return { onnxPath: this.modelPath, metadata: this.ready.metadata };
  }

  get provider(): ExecutionProvider {
    return this.ready.provider;
  }

  get fallbacks(): ProviderFallback[] {
    return this.ready.fallbacks;
  }

  get classPriorAlpha(): number {
    return this.ready.classPriorAlpha;
  }

  get inputWidthPx(): number {
    return this.ready.inputWidthPx;
  }

  get inputHeightPx(): number {
    return this.ready.inputHeightPx;
  }

  async close(): Promise<void> {
    this.dead ??= new Error('WorkerSegmenter closed');
    await this.worker.terminate();
  }

  private onReply(m: SegmentWorkerReply): void {
    const f = this.inFlight;
    if (!f || (m.kind !== 'result' && m.kind !== 'run-failed') || m.id !== f.id) return;
    this.inFlight = undefined;
    if (m.kind === 'result') {
      Object.assign(this.timings, m.timings);
      f.resolve(m.out);
    } else f.reject(new ModelError(this.modelPath, [m.message]));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    const f = this.inFlight;
    this.inFlight = undefined;
    f?.reject(this.dead);
  }
}
