import fs from 'node:fs';
import { BusyError, InternalError } from '../../errors.js';
import { assertReplaceable, isSameFile } from '../../sqlite/replaceable.js';
import { publishFile } from '../../files/durable.js';
import { preserveIntoBackups } from '../../files/move-aside.js';
import { removeDatabaseFiles } from '../../files/move-aside.js';
import type { Step } from '../run.js';
import { yieldToEventLoop } from '../../yield.js';
import type { PreflightOut } from './preflight.js';
import type { TransformOut } from './transform.js';
import type { BackupOut } from './backup.js';

/**
 * The app must be able to open what is published. Run as root (common in maintenance scripts),
 * dbshift would otherwise hand the app a root-owned 0600 file; so the published file takes the
 * source's owner and group. The mode stays 0600.
 */
export function keepOwner(like: string, file: string, notices: string[]): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = fs.statSync(like);
  const current = fs.statSync(file);
  if (current.uid === uid && current.gid === gid) return;
  fs.chownSync(file, uid, gid);
  notices.push(`The published file is owned by uid ${uid}, gid ${gid}, like ${like}.`);
}

const NOT_PUBLISHED = 'Nothing was published; the migrated copy was discarded and the backup is kept.';

/**
 * The migrated file becomes instance/health_records.db by one atomic rename, after whatever
 * stood there has been moved into the backup directory. Refused when a live WAL or hot journal
 * sits beside the target (SQLite would apply it to the new file) or when the source changed
 * after the snapshot (the migrated file would be missing those writes).
 */
export const publishStep: Step<PreflightOut & TransformOut & BackupOut> = {
  name: 'publish',
  async run(ctx, { workFile: work, workDb: db, workSynced, sourceDb, sourceDataVersion, sourceJournalMode, backup }) {
    if (ctx.options.rehearse) return { status: 'skipped', detail: 'rehearsal: the migrated copy is discarded' };
    // The source's journal mode is kept (it lives in the file header).
    if (sourceJournalMode === 'wal') db.pragma('journal_mode = WAL');
    db.close();
    await workSynced;
    if (['-wal', '-journal'].some((s) => fs.existsSync(work + s))) {
      throw new InternalError('work-file-not-closed', `${work} still has a journal beside it after closing.`);
    }

    const target = ctx.config.targetDb;
    const version = Number(sourceDb.pragma('data_version', { simple: true }));
    if (version !== sourceDataVersion) {
      throw new BusyError('source-changed', `${ctx.source} changed since the snapshot (source changed since snapshot): something still writes to it.`, {
        hint: 'Stop every process that writes the database (app, workers, cron), then run again.',
        dataState: NOT_PUBLISHED,
      });
    }
    // Migrating in place (the source is the target): our own connection would count as "open elsewhere".
    if (isSameFile(ctx.source, target)) sourceDb.close();
    assertReplaceable(target, ctx.config.busyTimeoutMs, NOT_PUBLISHED);
    keepOwner(ctx.source, work, ctx.report.notices);
    ctx.checkpoint('publish-before-move-aside');
    const replaced = preserveIntoBackups(target, ctx.backupDir, ctx.now());
    if (replaced) ctx.report.notices.push(`The previous ${target} was kept as ${replaced}.`);
    // The last moment to stop: let a pending Ctrl-C be seen before the one step that publishes.
    // Signals arrive in the event loop's poll phase; when this runs from a poll-phase callback
    // (a worker's message), one setImmediate runs before the next poll, so yield twice.
    await yieldToEventLoop();
    await yieldToEventLoop();
    ctx.checkpoint('publish-before-rename');
    publishFile(work, target, 'replace');
    ctx.checkpoint('publish-after-rename');

    if (ctx.source === ctx.config.handPreparedDb) {
      // As in the operator guide, the hand-prepared input is consumed; its content is the backup.
      sourceDb.close();
      removeDatabaseFiles(ctx.source);
      ctx.report.notices.push(`Removed ${ctx.source}; its content is in ${backup.path}.`);
    }
    return { status: 'ok', detail: target };
  },
};
