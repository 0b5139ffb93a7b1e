import fs from 'node:fs';
import path from 'node:path';
import { BusyError, InterruptedError, IoError, toToolError } from '../../errors.js';
import { spawn } from 'node:child_process';
import { createEmptyExclusive, tempPathBeside } from '../../files/create.js';
import { fsyncInBackground } from '../../files/durable.js';
import { linkNew } from '../../files/move-aside.js';
import { availableBytes } from '../../files/space.js';
import { inBackground, type BackgroundTask } from '../../sqlite/background.js';
import { holdIfQuiescent, type SourceHold } from '../../sqlite/quiescent.js';
import { snapshotDatabase } from '../../sqlite/snapshot.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { backupName, reserveBackup, sourceReplacedAtPublish } from '../backup-files.js';
import type { BackupRouteChoice, PreflightOut, SnapshotOut } from '../step-data.js';

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/**
 * The backup of the old database, by the route that writes least while proving most:
 * - `old-file`: the source is provably quiescent (a read transaction held, no writer holding or
 *   waiting for the lock, nothing in the -wal, no hot journal) and is replaced or consumed at
 *   publish (SOURCE_DB is the target, or the operator guide's hand copy): the hold lasts the
 *   whole run, the build and verification read the source itself, a worker hashes its bytes
 *   beside the build, and at publish the old file becomes the backup by a hard link or rename;
 * - `copy`: quiescent, but the old file cannot become the backup (`--backup copy`, the source
 *   stays in place, backups/ on another filesystem): a kernel copy while held, then released;
 * - `backup-api`: SQLite's online backup API, which includes what sits in the -wal and
 *   restarts if the source is written mid-copy.
 * On the copy routes the copy is hashed in a worker beside the build, and fsynced beside it.
 * The source's quick_check runs in its own worker meanwhile (awaited before the backup is named).
 */
export const snapshotStep: Step<PreflightOut, SnapshotOut> = {
  name: 'snapshot',
  async run(ctx, { sourceDb }) {
    const source = fs.realpathSync(ctx.source);
    const eligible = oldFileEligibility(ctx, source);
    const held = holdIfQuiescent(source, sourceDb, ctx.config.busyTimeoutMs);
    if (held.hold && eligible.ok) {
      const { hold } = held;
      ctx.cleanups.push(() => hold.close());
      const choice: BackupRouteChoice = { route: 'old-file', reason: `the source is quiescent, held for the whole run, and ${eligible.why}: the old file becomes the backup at publish (no bytes written)` };
      ctx.report.backupRoute = choice;
      const final = backupName(ctx);
      const sha256 = hashInBackground(ctx, hold.fd, false);
      ctx.checkpoint('snapshot-held');
      return { status: 'ok', detail: 'source held quiescent: the old file becomes the backup', out: { snapshot: { ...choice, baseline: source, final, sha256, synced: Promise.resolve(), hold } } };
    }
    const choice: BackupRouteChoice = held.hold
      ? { route: 'copy', reason: `the source is quiescent, but ${eligible.why}: a kernel copy` }
      : { route: 'backup-api', reason: `the source is not quiescent (${held.reason})${eligible.ok ? '' : ` and ${eligible.why}`}: SQLite's online backup API` };
    assertRoomForCopy(ctx, source);
    const { partial, final } = reserveBackup(ctx);
    let sha256: BackgroundTask<string>;
    let route = choice.route;
    let synced = Promise.resolve();
    try {
      let created = false;
      if (held.hold) {
        const { hold } = held;
        ctx.cleanups.push(() => hold.close());
        try {
          await copyWhileHeld(ctx, held.hold, source, partial);
          synced = fsyncInBackground(partial);
        } catch (error) {
          // No usable `cp` here (not GNU coreutils, not installed): the backup API does the same job.
          if (!(error instanceof CopyUnavailable)) throw error;
          fs.truncateSync(partial, 0);
          created = true;
          route = 'backup-api';
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
      sha256 = hashInBackground(ctx, fs.openSync(partial, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW), true);
    } catch (error) {
      throw toToolError(error, partial);
    }
    const taken = route === choice.route ? choice : { route, reason: `${choice.reason} (no usable \`cp\`: SQLite's online backup API instead)` };
    ctx.report.backupRoute = taken;
    const detail = route === 'copy' ? 'kernel file copy (source quiescent)' : 'online backup API';
    return { status: 'ok', detail, out: { snapshot: { ...taken, baseline: partial, partial, final, sha256, synced } } };
  },
};

/**
 * Whether the old file can become the backup, and why (not): it must be replaced or consumed
 * at publish, and a hard link from it into backups/ must work (same filesystem, links allowed).
 * The link is tried once, under a temp name removed at once (and by the next run if killed here).
 */
function oldFileEligibility(ctx: RunContext, source: string): { ok: boolean; why: string } {
  const replaced = sourceReplacedAtPublish(ctx);
  if (!replaced.ok || ctx.options.rehearse) return replaced;
  const probe = tempPathBeside(path.join(ctx.backupDir, path.basename(source)), 'link-probe');
  try {
    linkNew(source, probe);
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, why: code === 'EXDEV' ? `${ctx.backupDir} is on another filesystem than the source (a hard link fails with EXDEV)` : `a hard link from the source into ${ctx.backupDir} is refused (${code ?? 'error'})` };
  } finally {
    fs.rmSync(probe, { force: true });
  }
  return replaced;
}

/** Preflight counts no backup space for a source whose old file is expected to become the backup: a copy needs it now. */
function assertRoomForCopy(ctx: RunContext, source: string): void {
  const needed = fs.statSync(source).size;
  const free = availableBytes(ctx.backupDir);
  if (free < needed) {
    throw new IoError('insufficient-space', `Not enough space in ${ctx.backupDir} for a copy of the source: ${(needed / 1048576).toFixed(1)} MiB needed, ${(free / 1048576).toFixed(1)} MiB free.`, {
      hint: 'Free space, or point BACKUP_DIR at a bigger disk.',
      dataState: NOT_PUBLISHED,
    });
  }
}

/**
 * Copy the held source into the partial file (created here, 0600) in the kernel: `cp`
 * (copy_file_range, or a reflink where the filesystem has them), several times faster than
 * reading and writing the bytes in Node. Not fs.copyFile: libuv gives the destination the
 * source's permission bits. A child process's descriptors are its own, so the read lock this
 * process holds is unaffected. The hold ends here, whatever happens.
 */
async function copyWhileHeld(ctx: RunContext, hold: SourceHold, source: string, partial: string): Promise<void> {
  createEmptyExclusive(partial);
  try {
    await kernelCopy(ctx, source, partial);
    // Re-checked after the copy: still no -wal content, no writer, the same header (change counter).
    const changed = hold.changed();
    if (changed) {
      throw new BusyError('source-changed', `${ctx.source} was written while it was copied (source changed during the snapshot: ${changed}).`, {
        hint: 'Stop every process that writes the database (app, workers, cron), then run again.',
        dataState: NOT_PUBLISHED,
      });
    }
  } finally {
    hold.release();
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

/**
 * The backup's bytes are hashed in a worker while the build runs. On the old-file route `from`
 * is the hold's descriptor on the source, which must stay open until the hold ends (closing it
 * would drop the read lock); on the copy routes it is the worker's own, closed when done.
 */
function hashInBackground(ctx: RunContext, from: number, closeWhenDone: boolean): BackgroundTask<string> {
  const task = inBackground<string>({ kind: 'hash', from }, () => ctx.checkpoint('backup-bytes'));
  if (closeWhenDone) {
    const close = () => fs.closeSync(from);
    task.result.then(close, close);
  }
  ctx.cleanups.push(() => task.cancel());
  return task;
}
