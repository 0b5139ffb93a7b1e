import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { DataError, InputError, toToolError } from '../errors.js';
import { readChecksumFile, streamHash } from '../files/checksum.js';
import { ensureDirectory, openExclusive, tempPathBeside } from '../files/create.js';
import { publishFile } from '../files/durable.js';
import { linkNotice, publishTarget } from '../files/target-link.js';
import { acquireInstanceLock } from '../files/lock.js';
import { preserveIntoBackups } from '../files/move-aside.js';
import { removeLeftovers } from '../files/leftovers.js';
import { backupKey, parseBackupName } from '../files/names.js';
import { healthRecordsV5 } from '../plans/health-records-v5/index.js';
import { quickCheck } from '../sqlite/checks.js';
import { openReadonly } from '../sqlite/open.js';
import { assertReplaceable } from '../sqlite/replaceable.js';
import { createContext, type RunOptions } from './context.js';
import { finishRun } from './finish.js';
import { backupNames } from './list-backups.js';
import { runSteps, type Step } from './run.js';
import { removeDatabaseFiles } from '../files/move-aside.js';
import { keepOwner } from '../files/owner.js';
import type { RunResult } from './types.js';
import { yieldToEventLoop } from '../yield.js';

export interface RestoreTargets {
  /** The backup to restore; default: the newest verified backup of the target (by its file name). */
  backup?: string;
  /** Where to restore it; default: instance/health_records.db (the CLI passes --to, else DATABASE). */
  to?: string;
}

const TARGET_UNTOUCHED = 'The target was not touched.';

/**
 * `dbshift restore`: rollback by backup. The backup must match its SHA-256 and pass
 * quick_check; it is copied (never moved) to a temp file beside the target, fsynced and renamed
 * in, after the current target and its -wal/-shm were moved into the backup directory.
 */
export async function restore(config: Config, targets: RestoreTargets, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const named = targets.to ?? config.targetDb;
  // Until a backup is chosen, the source this run uses is the directory it looks in.
  const ctx = createContext({ ...config, targetDb: named, sourceDb: targets.backup ?? config.backupDir }, healthRecordsV5, options, { workDir: path.dirname(named), backupDir: config.backupDir });
  let chosen = '';
  let sha256 = '';
  const step: Step = {
    name: 'restore',
    async run() {
      // A target that is a symlink: the backup goes to its real file (see target-link.ts).
      const resolved = publishTarget(named);
      const target = resolved.path;
      ctx.config = { ...ctx.config, targetDb: target };
      ctx.report.notices.push(...linkNotice(resolved));
      chosen = targets.backup ?? newestBackup(config.backupDir, named);
      ctx.source = chosen;
      if (!fs.existsSync(chosen)) throw new InputError('backup-missing', `${chosen} does not exist.`, { dataState: TARGET_UNTOUCHED });
      // The checksum decides first: a damaged or unverifiable backup is refused as such (65).
      const expected = readChecksumFile(chosen);
      ensureDirectory(path.dirname(target));
      ctx.lock = acquireInstanceLock(path.dirname(target), 'restore', ctx.now());
      for (const file of removeLeftovers([path.dirname(target)])) ctx.report.notices.push(`Removed ${file}, left by an interrupted run.`);
      // Before the copy (fail fast) and again right before the target is moved aside.
      assertReplaceable(target, config.busyTimeoutMs, TARGET_UNTOUCHED);

      // Copy and hash in one read: what lands beside the target is exactly what was checked.
      const temp = tempPathBeside(target, 'restore');
      ctx.cleanups.push(() => removeDatabaseFiles(temp));
      const fd = openExclusive(temp);
      try {
        sha256 = await streamHash(chosen, fd, async (done, total) => {
          ctx.emit({ step: 'restore', phase: 'progress', done, total, unit: 'bytes' });
          ctx.checkpoint('restore-bytes');
        });
      } finally {
        fs.closeSync(fd);
      }
      if (sha256 !== expected) {
        throw new DataError('checksum-mismatch', `${chosen} does not match its checksum: the backup was changed or damaged.`, {
          hint: 'Pick another backup (see `dbshift backups`).',
          dataState: TARGET_UNTOUCHED,
        });
      }
      const copy = openReadonly(temp, config.busyTimeoutMs);
      const complaints = quickCheck(copy);
      copy.close();
      // A read-only connection leaves -wal/-shm beside a WAL-mode file; these belong to our temp copy.
      for (const suffix of ['-wal', '-shm']) fs.rmSync(temp + suffix, { force: true });
      if (complaints.length > 0) {
        throw new DataError('backup-corrupt', `${chosen} fails quick_check: ${complaints.slice(0, 3).join('; ')}`, {
          hint: 'Pick another backup (see `dbshift backups`).',
          dataState: TARGET_UNTOUCHED,
        });
      }
      await yieldToEventLoop();
      assertReplaceable(target, config.busyTimeoutMs, TARGET_UNTOUCHED);
      if (fs.existsSync(target)) keepOwner(target, temp, ctx.report.notices);
      ctx.checkpoint('restore-before-move-aside');
      const replaced = preserveIntoBackups(target, ensureDirectory(config.backupDir), ctx.now());
      if (replaced) ctx.report.notices.push(`The previous ${target} was kept as ${replaced}.`);
      try {
        publishFile(temp, target, 'replace');
      } catch (error) {
        const failure = toToolError(error, target);
        failure.dataState = `${replaced ? `The previous target was moved to ${replaced}; ` : ''}the backup is not in place yet. Run restore again.`;
        throw failure;
      }
      ctx.report.backup = { path: chosen, sha256 };
      return { status: 'ok', detail: `${chosen} -> ${target}` };
    },
  };
  const outcome = await runSteps([step], ctx);
  // Every other failure happens before the target is touched (moving it aside and renaming are the last acts).
  if (outcome.error && !outcome.error.dataState) outcome.error.dataState = TARGET_UNTOUCHED;
  const result = finishRun(ctx, 'restore', outcome, outcome.error ? 'failed' : 'restored', started);
  ctx.lock?.release();
  return result;
}

function newestBackup(backupDir: string, target: string): string {
  // Only backups with their checksum file count: one without is incomplete or unverifiable.
  const key = backupKey(target);
  const all = backupNames(backupDir, { database: key, format: 'sqlite' });
  const newest = all.find((n) => fs.existsSync(path.join(backupDir, `${n}.sha256`)));
  if (!newest && all.length > 0) {
    throw new DataError('checksum-missing', `No backup of ${key} in ${backupDir} has its .sha256 file; none can be trusted.`, {
      hint: 'Name a backup explicitly only if you have verified it by other means.',
      dataState: TARGET_UNTOUCHED,
    });
  }
  if (!newest) {
    const others = [...new Set(backupNames(backupDir, { format: 'sqlite' }).map((n) => parseBackupName(n)!.database))];
    throw new InputError('no-backups', `No backups of ${path.basename(target)} (${key}_backup_*.db) in ${backupDir}${others.length > 0 ? `; there are backups of ${others.join(', ')}` : ''}.`, {
      hint: `Name one explicitly: dbshift restore ${path.join(backupDir, `${key}_backup_YYYYMMDD_HHMMSS.db`)} --to ${target}`,
      dataState: TARGET_UNTOUCHED,
    });
  }
  return path.join(backupDir, newest);
}
