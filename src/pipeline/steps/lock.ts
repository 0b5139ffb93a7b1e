import path from 'node:path';
import { ensureDirectory } from '../../files/create.js';
import { removeLeftovers } from '../../files/leftovers.js';
import { freeStampedPath, REPORT_PREFIX } from '../../files/names.js';
import { acquireInstanceLock } from '../../files/lock.js';
import type { Step } from '../run.js';
import { dropSecondName } from '../../files/move-aside.js';
import { BACKUP_NAME_PATTERN } from '../../files/names.js';
import fs from 'node:fs';

/** Backup names in `backupDir` that are only second names of one of `databases` (see dropSecondName); removed. */
function staleBackupNames(backupDir: string, databases: string[]): string[] {
  const removed: string[] = [];
  for (const name of fs.readdirSync(backupDir)) {
    if (!BACKUP_NAME_PATTERN.test(name)) continue;
    const file = path.join(backupDir, name);
    if (databases.some((database) => dropSecondName(file, database))) removed.push(file);
  }
  return removed;
}

/**
 * One run at a time per instance directory. Under the lock no other dbshift run is active, so
 * any temp file carrying dbshift's marker is a leftover of an interrupted run: removed, with a notice.
 */
export const lockStep: Step = {
  name: 'lock',
  async run(ctx) {
    if (ctx.options.rehearse) return { status: 'skipped', detail: 'rehearsal: instance/ is not touched' };
    const instanceDir = ensureDirectory(ctx.workDir);
    const lock = acquireInstanceLock(ctx.workDir, 'migrate', ctx.now());
    ctx.lock = lock;
    if (lock.tookOverFrom) {
      ctx.report.notices.push(`Took over a stale lock of pid ${lock.tookOverFrom.pid} (started ${lock.tookOverFrom.startedAt}), which is no longer running.`);
    }
    // A configured directory may be a symlink (backups on a bigger disk): say where files really go.
    const backupDir = ensureDirectory(ctx.backupDir);
    if (backupDir !== path.resolve(ctx.backupDir)) ctx.report.notices.push(`Backups go to ${backupDir} (${ctx.backupDir} is a link).`);
    if (instanceDir !== path.resolve(ctx.workDir)) ctx.report.notices.push(`The instance directory is ${instanceDir} (${ctx.workDir} is a link).`);
    ctx.backupDir = backupDir;
    // Chosen now, so that a link standing at the record's name stops the run before any work.
    if (ctx.options.record) ctx.report.reportPath = freeStampedPath(backupDir, REPORT_PREFIX, ctx.runDate, '.json');
    for (const file of removeLeftovers([instanceDir, backupDir])) ctx.report.notices.push(`Removed ${file}, left by an interrupted run.`);
    for (const name of staleBackupNames(backupDir, [ctx.config.targetDb, ctx.source])) {
      ctx.report.notices.push(`Removed ${name}: a second name of the database itself (not a copy), left by a publish interrupted before the new file was in place; the database was not touched.`);
    }
    return { status: 'ok', detail: lock.file };
  },
};
