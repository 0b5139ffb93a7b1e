import fs from 'node:fs';
import { BusyError, toToolError } from '../../errors.js';
import { createEmptyExclusive, openExclusive } from '../../files/create.js';
import { fsyncInBackground } from '../../files/durable.js';
import { inBackground, type BackgroundTask } from '../../sqlite/background.js';
import { hasHotJournal, walBytes } from '../../sqlite/checks.js';
import { assertNotWriteLocked, type Db } from '../../sqlite/open.js';
import { snapshotDatabase } from '../../sqlite/snapshot.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { reserveBackup } from './backup.js';
import { assertQuickCheck, type PreflightOut } from './preflight.js';

export interface SnapshotOut {
  snapshot: {
    /** The backup's partial file: the snapshot, and what the build reads. */
    partial: string;
    /** The name it gets once hashed and durable. */
    final: string;
    route: 'copy' | 'backup-api';
    /** The SHA-256 of the partial file: known from the copy, or hashed in a worker beside the build. */
    sha256: BackgroundTask<string> | string;
    /** The partial file's fsync, overlapping the build (the backup API's commit has already synced). */
    synced: Promise<void>;
  };
}

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/**
 * A consistent copy of the source in the backup's partial file, by the fastest correct route:
 * - provably quiescent (no writer holds or waits for the lock, no -wal content, and still so
 *   after the copy, all while this run holds a read transaction, so no writer can commit): a
 *   plain copy of the file's bytes in a worker thread, hashed on the same read;
 * - otherwise SQLite's online backup API, which includes what sits in the -wal and restarts if
 *   the source is written mid-copy; its hash is then taken in a worker beside the build.
 * The source's quick_check runs in its own worker meanwhile, and must pass before the build.
 */
export const snapshotStep: Step<PreflightOut, SnapshotOut> = {
  name: 'snapshot',
  async run(ctx, { sourceDb, quickCheck }) {
    const { partial, final } = reserveBackup(ctx);
    const source = fs.realpathSync(ctx.source);
    let sha256: SnapshotOut['snapshot']['sha256'];
    let route: SnapshotOut['snapshot']['route'];
    let synced = Promise.resolve();
    try {
      if (holdIfQuiescent(ctx, sourceDb, source)) {
        route = 'copy';
        sha256 = await copyWhileHeld(ctx, sourceDb, source, partial);
        synced = fsyncInBackground(partial);
      } else {
        route = 'backup-api';
        createEmptyExclusive(partial);
        await snapshotDatabase(
          sourceDb,
          partial,
          (done, total) => ctx.emit({ step: 'snapshot', phase: 'progress', done, total, unit: 'pages' }),
          () => ctx.checkpoint('snapshot-pages'),
        );
        sha256 = hashInBackground(ctx, partial);
      }
    } catch (error) {
      throw toToolError(error, partial);
    }
    await assertQuickCheck(ctx, quickCheck);
    return { status: 'ok', detail: route === 'copy' ? 'file copy (source quiescent)' : 'online backup API', out: { snapshot: { partial, final, route, sha256, synced } } };
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
 * Copy the held source byte for byte in a worker (second core), hashing on the same read.
 * The descriptors stay open here until the read transaction ends: closing any descriptor of
 * a file drops this process's POSIX locks on it, SQLite's read lock included.
 */
async function copyWhileHeld(ctx: RunContext, db: Db, source: string, partial: string): Promise<string> {
  const to = openExclusive(partial);
  let from: number | undefined;
  try {
    from = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const header = readHeader(from);
    const copy = inBackground<string>({ kind: 'copy', from, to }, (done, total) => {
      ctx.emit({ step: 'snapshot', phase: 'progress', done, total, unit: 'bytes' });
      ctx.checkpoint('snapshot-bytes');
    });
    ctx.cleanups.push(() => copy.cancel());
    const sha256 = await copy.result;
    // Re-checked after the copy: still no -wal content, no writer, the same header (change counter).
    if (walBytes(source) > 0 || hasHotJournal(source) || !readHeader(from).equals(header)) {
      throw new BusyError('source-changed', `${ctx.source} was written while it was copied (source changed during the snapshot).`, {
        hint: 'Stop every process that writes the database (app, workers, cron), then run again.',
        dataState: NOT_PUBLISHED,
      });
    }
    assertNotWriteLocked(source, ctx.config.busyTimeoutMs, db);
    return sha256;
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
    if (from !== undefined) fs.closeSync(from);
    fs.closeSync(to);
  }
}

/** The backup API's copy is hashed (and so read back) in a worker while the build runs. */
function hashInBackground(ctx: RunContext, partial: string): BackgroundTask<string> {
  const from = fs.openSync(partial, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const task = inBackground<string>({ kind: 'copy', from }, () => ctx.checkpoint('backup-bytes'));
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
