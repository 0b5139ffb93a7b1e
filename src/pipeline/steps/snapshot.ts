import fs from 'node:fs';
import { BusyError, InterruptedError, toToolError } from '../../errors.js';
import { spawn } from 'node:child_process';
import { createEmptyExclusive } from '../../files/create.js';
import { fsyncInBackground } from '../../files/durable.js';
import { inBackground, type BackgroundTask } from '../../sqlite/background.js';
import { hasHotJournal, walBytes } from '../../sqlite/checks.js';
import { assertNotWriteLocked, type Db } from '../../sqlite/open.js';
import { snapshotDatabase } from '../../sqlite/snapshot.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { reserveBackup } from './backup.js';
import type { PreflightOut } from './preflight.js';

export interface SnapshotOut {
  snapshot: {
    /** The backup's partial file: the snapshot, and what the build reads. */
    partial: string;
    /** The name it gets once hashed and durable. */
    final: string;
    route: 'copy' | 'backup-api';
    /** The SHA-256 of the partial file, hashed in a worker beside the build. */
    sha256: BackgroundTask<string>;
    /** The partial file's fsync, overlapping the build (the backup API's commit has already synced). */
    synced: Promise<void>;
  };
}

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/**
 * A consistent copy of the source in the backup's partial file, by the fastest correct route:
 * - provably quiescent (no writer holds or waits for the lock, no -wal content, and still so
 *   after the copy, all while this run holds a read transaction, so no writer can commit): a
 *   kernel copy of the file;
 * - otherwise SQLite's online backup API, which includes what sits in the -wal and restarts if
 *   the source is written mid-copy.
 * Either way the copy is hashed in a worker beside the build, and fsynced beside it.
 * The source's quick_check runs in its own worker meanwhile (awaited before the backup is named).
 */
export const snapshotStep: Step<PreflightOut, SnapshotOut> = {
  name: 'snapshot',
  async run(ctx, { sourceDb }) {
    const { partial, final } = reserveBackup(ctx);
    const source = fs.realpathSync(ctx.source);
    let sha256: SnapshotOut['snapshot']['sha256'];
    let route: SnapshotOut['snapshot']['route'];
    let synced = Promise.resolve();
    try {
      route = 'backup-api';
      let created = false;
      if (holdIfQuiescent(ctx, sourceDb, source)) {
        try {
          await copyWhileHeld(ctx, sourceDb, source, partial);
          route = 'copy';
          synced = fsyncInBackground(partial);
        } catch (error) {
          // No usable `cp` here (not GNU coreutils, not installed): the backup API does the same job.
          if (!(error instanceof CopyUnavailable)) throw error;
          fs.truncateSync(partial, 0);
          created = true;
        }
      }
      if (route === 'backup-api') {
        if (!created) createEmptyExclusive(partial);
        await snapshotDatabase(
          sourceDb,
          partial,
          (done, total) => ctx.emit({ step: 'snapshot', phase: 'progress', done, total, unit: 'pages' }),
          () => ctx.checkpoint('snapshot-pages'),
        );
      }
      sha256 = hashInBackground(ctx, partial);
    } catch (error) {
      throw toToolError(error, partial);
    }
    return { status: 'ok', detail: route === 'copy' ? 'kernel file copy (source quiescent)' : 'online backup API', out: { snapshot: { partial, final, route, sha256, synced } } };
  },
};

/**
 * Take a read transaction on the source, then prove that nothing else writes it: no writer
 * holds or waits for its lock, no hot journal, nothing in the -wal. While the read lasts,
 * writers cannot commit (rollback journal) or checkpoint into the file (WAL, read mark 0),
 * so its bytes stay as they are. Returns false (and holds nothing) when not quiescent.
 */
function holdIfQuiescent(ctx: RunContext, db: Db, source: string): boolean {
  if (walBytes(source) > 0 || hasHotJournal(source)) return false;
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  try {
    assertNotWriteLocked(source, ctx.config.busyTimeoutMs, db);
  } catch {
    db.exec('COMMIT');
    return false;
  }
  if (walBytes(source) > 0) {
    db.exec('COMMIT');
    return false;
  }
  return true;
}

/**
 * Copy the held source into the (already created, 0600) partial file in the kernel: `cp`
 * (copy_file_range, or a reflink where the filesystem has them), several times faster than
 * reading and writing the bytes in Node. Not fs.copyFile: libuv gives the destination the
 * source's permission bits. A child process's descriptors are its own, so the read lock this
 * process holds is unaffected; the header is read through a descriptor kept open until the read
 * transaction ends (closing any descriptor of a file drops this process's POSIX locks on it).
 */
async function copyWhileHeld(ctx: RunContext, db: Db, source: string, partial: string): Promise<void> {
  createEmptyExclusive(partial);
  const from = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const header = readHeader(from);
    await kernelCopy(ctx, source, partial);
    // Re-checked after the copy: still no -wal content, no writer, the same header (change counter).
    if (walBytes(source) > 0 || hasHotJournal(source) || !readHeader(from).equals(header)) {
      throw new BusyError('source-changed', `${ctx.source} was written while it was copied (source changed during the snapshot).`, {
        hint: 'Stop every process that writes the database (app, workers, cron), then run again.',
        dataState: NOT_PUBLISHED,
      });
    }
    assertNotWriteLocked(source, ctx.config.busyTimeoutMs, db);
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
    fs.closeSync(from);
  }
}

/** `cp` cannot run here (missing, or without GNU options): the snapshot falls back to the backup API. */
class CopyUnavailable extends Error {}

/** `cp` into the existing partial file (it keeps its 0600 mode), with progress and Ctrl-C from its size. */
function kernelCopy(ctx: RunContext, source: string, partial: string): Promise<void> {
  const total = fs.statSync(source).size;
  return new Promise((resolve, reject) => {
    // Its own process group: a Ctrl-C at the terminal reaches dbshift, which stops it at a safe point.
    const child = spawn('cp', ['--reflink=auto', source, partial], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const stop = (error: unknown) => {
      clearInterval(poll);
      child.kill('SIGKILL');
      reject(error);
    };
    const progress = () => {
      try {
        ctx.emit({ step: 'snapshot', phase: 'progress', done: fs.statSync(partial).size, total, unit: 'bytes' });
        ctx.checkpoint('snapshot-bytes');
      } catch (error) {
        stop(error);
      }
    };
    const poll = setInterval(progress, 100);
    child.on('error', (error: NodeJS.ErrnoException) => stop(error.code === 'ENOENT' ? new CopyUnavailable(error.message) : error));
    child.on('close', (code, signal) => {
      clearInterval(poll);
      if (code === 0) {
        // The last checkpoint sees the complete copy (a test pauses there; Ctrl-C stops here too).
        try {
          ctx.emit({ step: 'snapshot', phase: 'progress', done: total, total, unit: 'bytes' });
          ctx.checkpoint('snapshot-bytes');
        } catch (error) {
          return reject(error);
        }
        return resolve();
      }
      if (signal) return reject(new InterruptedError('interrupted', `The copy of ${ctx.source} was stopped (${signal}).`, { hint: 'Run the same command again when ready.' }));
      if (/unrecognized option|illegal option|invalid option|usage:/i.test(stderr)) return reject(new CopyUnavailable(stderr.trim()));
      const errno = /No space left|Disk quota/i.test(stderr) ? 'ENOSPC' : 'EIO';
      reject(Object.assign(new Error(stderr.trim() || `cp ended with ${signal ?? `exit code ${code}`}`), { code: errno }));
    });
  });
}

/** The snapshot is hashed (and so read back from what lies on disk) in a worker while the build runs. */
function hashInBackground(ctx: RunContext, partial: string): BackgroundTask<string> {
  const from = fs.openSync(partial, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const task = inBackground<string>({ kind: 'hash', from }, () => ctx.checkpoint('backup-bytes'));
  const close = () => fs.closeSync(from);
  task.result.then(close, close);
  ctx.cleanups.push(() => task.cancel());
  return task;
}

/** The 100-byte header (its change counter moves with every commit), read through a descriptor kept open. */
function readHeader(fd: number): Buffer {
  const header = Buffer.alloc(100);
  fs.readSync(fd, header, 0, 100, 0);
  return header;
}
