/**
 * Running `fleetmap` commands as child processes for the simulation's drivers (the demo, the
 * benchmarks): start one on loopback, watch its JSON log events, stop it; and the sensor-bus
 * encoding the simulator uses to play a drive into an edge daemon's intake.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import { encodeCameraFrame } from '../shared/camera-frame.ts';
import { COMPILED } from '../shared/ts-worker.ts';
import type { SimMessage } from './messages.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The same build as this process: the sources through tsx, or the compiled dist/ as it is. */
const CLI = path.join(REPO_ROOT, 'cli', COMPILED ? 'main.js' : 'main.ts');
const LOADER = COMPILED ? [] : ['--import', 'tsx'];

const packr = new Packr({ useRecords: false });

/** One sensor-bus message as its ZeroMQ frames: camera frames raw behind their header, the rest msgpack. */
export function encodeSensorMessage(m: SimMessage): [string, Uint8Array] {
  return m.topic === 'camera' ? [m.topic, encodeCameraFrame(m.payload)] : [m.topic, packr.pack(m.payload)];
}

export interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  exitCode: number | null;
  waitForEvent(event: string, timeoutMs: number): Promise<Record<string, unknown>>;
}

/** Run `fleetmap <args>`; JSON log lines on stderr are watched for events and copied to `logFile`. */
export function startProcess(args: string[], logFile: string | undefined): Proc {
  const child = spawn(process.execPath, [...(process.env.FLEETMAP_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.FLEETMAP_PROFILE_DIR] : []), ...LOADER, CLI, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', logFile ? 'pipe' : 'inherit', 'pipe'],
  });
  const waiters: Array<{ event: string; resolve: (v: Record<string, unknown>) => void }> = [];
  const logLines: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      logLines.push(line);
      if (!logFile) process.stderr.write(`${line}\n`);
      if (!line.startsWith('{')) continue;
      try {
        const ev = JSON.parse(line) as Record<string, unknown>;
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.event === ev.event) waiters.splice(i, 1)[0]!.resolve(ev);
        }
      } catch {
        /* not a log event */
      }
    }
  });
  if (logFile) child.stdout!.on('data', (d: Buffer) => logLines.push(d.toString('utf8').trimEnd()));
  const proc: Proc = {
    child,
    exitCode: null,
    exited: new Promise((resolve) => {
      child.on('close', (code, sig) => { // 'close': exited and every line of its output read
        proc.exitCode = code ?? (sig ? 128 : 1);
        if (logFile) writeFileSync(logFile, `${logLines.join('\n')}\n`);
        for (const w of waiters.splice(0)) w.resolve({ event: 'exited', code: proc.exitCode });
        resolve();
      });
    }),
    waitForEvent(event, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${event} from fleetmap ${args.slice(0, 2).join(' ')} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          event,
          resolve: (v) => {
            clearTimeout(timer);
            if (v.event === 'exited') reject(new Error(`fleetmap ${args.slice(0, 2).join(' ')} exited (${String(v.code)}) before ${event}${logFile ? `; see ${logFile}` : ''}`));
            else resolve(v);
          },
        });
      });
    },
  };
  return proc;
}

export async function stopProcess(p: Proc, sig: NodeJS.Signals): Promise<void> {
  if (p.exitCode !== null) return;
  p.child.kill(sig);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
  await p.exited;
  clearTimeout(timer);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
