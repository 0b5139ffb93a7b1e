import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { CLI } from './cli.js';
import { collect, type Finished } from './process.js';

// The CLI inside a real pseudo-terminal, hosted by util-linux `script` (Debian's bsdutils,
// essential on every Debian system): what the operator's keystrokes reach, the kernel's line
// discipline turns into signals exactly as in a terminal, so a Ctrl-C is the byte \x03, not a kill.

export interface PtyRun {
  /** `script` itself; its stdin is the keyboard, its stdout the screen. */
  host: ChildProcess;
  finished: Promise<Finished>;
  /** dbshift's own pid (the child `script` runs). */
  pid(): Promise<number>;
  type(text: string): void;
}

export function dbshiftInPty(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; columns?: number }): PtyRun {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', TERM: 'xterm-256color' };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  // A pty started by `script` without a terminal of its own has no size, and a spinner needs one.
  const command = `stty cols ${options.columns ?? 120} rows 40; exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const host = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const finished = collect(host);
  return {
    host,
    finished,
    pid: () => childOf(host.pid!),
    type: (text) => host.stdin!.write(text),
  };
}

async function childOf(parent: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) === parent && fs.readlinkSync(`/proc/${entry}/exe`) === process.execPath) return Number(entry);
      } catch {
        // The process ended while we looked.
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no node child of ${parent}`);
}

/** True once `signal` is pending for pid (delivered by the kernel, not yet handled). */
export function signalPending(pid: number, signal: number): boolean {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const bit = 1n << BigInt(signal - 1);
  return ['SigPnd', 'ShdPnd'].some((field) => {
    const match = new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status);
    return !!match && (BigInt(`0x${match[1]}`) & bit) !== 0n;
  });
}

export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}
