import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BusyError, InterruptedError, toToolError } from '../errors.js';
import { writeFileExclusive } from './create.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface InstanceLock {
  file: string;
  /** Set when a stale lock of a dead process was taken over. */
  tookOverFrom?: LockHolder;
  release(): void;
}

export const LOCK_FILE_NAME = '.dbshift.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder's command line, when it runs on this host and /proc shows it (Linux). */
function processName(pid: number): string | undefined {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return cmdline.length > 0 ? cmdline.join(' ').slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * One run at a time per instance directory. The lock file is created with O_EXCL, so two
 * runs racing for it cannot both win. A lock left by a dead process on this host is stale
 * and taken over; a lock from another host is never assumed stale.
 */
export function acquireInstanceLock(instanceDir: string, command: string, now: Date): InstanceLock {
  const file = path.join(instanceDir, LOCK_FILE_NAME);
  const me: LockHolder = { pid: process.pid, host: os.hostname(), startedAt: now.toISOString(), command };
  let tookOverFrom: LockHolder | undefined;

  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileExclusive(file, JSON.stringify(me) + '\n');
      let released = false;
      return {
        file,
        ...(tookOverFrom ? { tookOverFrom } : {}),
        release() {
          if (released) return;
          released = true;
          // Only remove the lock if it is still ours.
          if (readHolder(file)?.pid === me.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      // Anything but "a regular lock file exists" (a symlink: 73; a full disk: 74) is not a busy lock.
      if ((error as { code?: string }).code !== 'output-exists') throw toToolError(error, file);
      const holder = readHolder(file);
      const stale = holder !== undefined && holder.host === me.host && !isAlive(holder.pid);
      if (!stale || attempt > 0) {
        const running = holder && holder.host === me.host ? processName(holder.pid) : undefined;
        const who = holder
          ? `pid ${holder.pid} on ${holder.host} (\`dbshift ${holder.command}\`, since ${holder.startedAt}${running ? `; the process: ${running}` : ''})`
          : 'an unreadable lock file';
        throw new BusyError('instance-locked', `Another dbshift run holds ${file}: ${who}.`, {
          hint: holder && holder.host !== me.host
            ? `Make sure that run is finished, then remove ${file} by hand.`
            : 'Wait for it to finish, then run again.',
          dataState: 'Nothing was changed.',
        });
      }
      tookOverFrom = holder;
      removeStaleLock(file, holder);
    }
  }
  /* c8 ignore next */
  throw new BusyError('instance-locked', `Could not take ${file}.`);
}

/**
 * Remove a dead run's lock, if it is still that run's. Several runs may find it stale at once;
 * only the one that creates the takeover marker (O_EXCL) removes it, after reading it again,
 * so that none removes a lock another run has just taken.
 */
function removeStaleLock(file: string, stale: LockHolder): void {
  const marker = `${file}.takeover`;
  try {
    writeFileExclusive(marker, `${process.pid}\n`);
  } catch {
    // Another run is taking over right now. A marker left by a run that died doing so is old: cleared after a minute.
    try {
      if (Date.now() - fs.statSync(marker).mtimeMs > 60_000) fs.rmSync(marker, { force: true });
    } catch {
      // Gone already.
    }
    return;
  }
  try {
    const current = readHolder(file);
    if (current && current.pid === stale.pid && current.host === stale.host && current.startedAt === stale.startedAt) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(marker, { force: true });
  }
}

/**
 * The same lock, waiting for it up to `waitMs` while another run holds it (apps starting at
 * once: one migrates, the others wait and then find nothing to do). Anything but a busy lock
 * fails at once; so does a Ctrl-C.
 */
export async function acquireInstanceLockWaiting(instanceDir: string, command: string, now: () => Date, waitMs: number, signal?: AbortSignal, onWait?: (holder: string) => void): Promise<InstanceLock> {
  const deadline = Date.now() + waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 500)) {
    try {
      return acquireInstanceLock(instanceDir, command, now());
    } catch (error) {
      const busy = error instanceof BusyError && error.code === 'instance-locked';
      if (busy && signal?.aborted) {
        throw new InterruptedError('interrupted', 'Interrupted while waiting for the lock.', { hint: 'Run the same command again when ready.', dataState: 'Nothing was changed.' });
      }
      if (!busy || Date.now() + pause > deadline) {
        if (busy && waitMs > 0) (error as BusyError).message += ` Waited ${waitMs} ms.`;
        throw error;
      }
      if (pause === 25) onWait?.((error as BusyError).message);
      // An abort ends the pause at once: the next attempt sees it.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, pause);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
