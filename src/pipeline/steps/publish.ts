import fs from 'node:fs';
import { InternalError, toToolError } from '../../errors.js';
import { sourceChanged } from '../source-access.js';
import { writeChecksumFile } from '../../files/checksum.js';
import { PRIVATE_FILE_MODE } from '../../files/create.js';
import { fsyncDirectory, publishFile } from '../../files/durable.js';
import { dropSecondName, keepAs, preserveIntoBackups, removeDatabaseFiles } from '../../files/move-aside.js';
import { keepOwner } from '../../files/owner.js';
import { assertReplaceable, isSameFile } from '../../sqlite/replaceable.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import type { BackupOut, PreflightOut, SnapshotOut, TransformOut } from '../step-data.js';
import { yieldToEventLoop } from '../../yield.js';

const NOT_PUBLISHED_COPY = 'Nothing was published; the migrated copy was discarded and the backup is kept.';
const NOT_PUBLISHED_HELD = 'Nothing was published and dbshift wrote nothing to the source; the migrated copy was discarded.';

/**
 * The migrated file becomes instance/health_records.db by one atomic rename. Refused when a
 * live WAL or hot journal sits beside the target (SQLite would apply it to the new file) or
 * when the source changed after it was read (the migrated file would be missing those writes).
 *
 * Copy routes: whatever stood at the target is first kept in the backup directory (a hard link).
 * old-file route: the old file gets the backup's name by a hard link and its .sha256 (hashed
 * while held), then the rename puts the new file in its place; from then on the old file's only
 * name is the backup (the hand copy's own name is removed last). No byte is written for it.
 */
export const publishStep: Step<PreflightOut & SnapshotOut & TransformOut & BackupOut> = {
  name: 'publish',
  async run(ctx, { workFile: work, workDb: db, workSynced, sourceDb, sourceDataVersion, sourceJournalMode, backup, snapshot }) {
    if (ctx.options.rehearse) return { status: 'skipped', detail: 'rehearsal: the migrated copy is discarded' };
    const held = snapshot.route === 'old-file' ? snapshot.hold : undefined;
    const notPublished = held ? NOT_PUBLISHED_HELD : NOT_PUBLISHED_COPY;
    // The source's journal mode is kept (it lives in the file header).
    if (sourceJournalMode === 'wal') db.pragma('journal_mode = WAL');
    db.close();
    await workSynced;
    if (['-wal', '-journal'].some((s) => fs.existsSync(work + s))) {
      throw new InternalError('work-file-not-closed', `${work} still has a journal beside it after closing.`);
    }

    const target = ctx.config.targetDb;
    // Held: no writer could change the file's bytes; a WAL commit or a writer waiting shows here.
    // Copy routes: any commit since preflight moved data_version.
    const changed = held ? held.changed() : Number(sourceDb.pragma('data_version', { simple: true })) !== sourceDataVersion ? 'data_version moved' : undefined;
    if (changed) throw sourceChanged(ctx, changed, notPublished);
    // The probe for another process's connection needs ours gone: the hold's read lock, and (in
    // place) our connection to the file, would count as the app's. Then the held file's bytes
    // are checked once more, from the descriptor the hold keeps.
    held?.release();
    if (isSameFile(ctx.source, target)) sourceDb.close();
    assertReplaceable(target, ctx.config.busyTimeoutMs, notPublished);
    const movedSince = held?.bytesChanged();
    if (movedSince) throw sourceChanged(ctx, movedSince, notPublished);
    keepOwner(ctx.source, work, ctx.report.notices);
    ctx.checkpoint('publish-before-move-aside');
    const handCopy = ctx.source === ctx.config.handPreparedDb;
    if (!held || handCopy) {
      const replaced = preserveIntoBackups(target, ctx.backupDir, ctx.now());
      if (replaced) ctx.report.notices.push(`The previous ${target} was kept as ${replaced}.`);
    }
    try {
      if (held) {
        // The old file takes the backup's name (and with it its checksum) while still in place.
        keepBackupName(ctx, fs.realpathSync(ctx.source), backup.path, backup.sha256);
        ctx.checkpoint('publish-backup-named');
      }
      // The last moment to stop: let a pending Ctrl-C be seen before the one step that publishes.
      // Signals arrive in the event loop's poll phase; when this runs from a poll-phase callback
      // (a worker's message), one setImmediate runs before the next poll, so yield twice.
      await yieldToEventLoop();
      await yieldToEventLoop();
      ctx.checkpoint('publish-before-rename');
      publishFile(work, target, 'replace');
    } catch (error) {
      // Not published: the old file keeps only its own name, so it cannot pose as its own
      // backup while the app goes on writing it (a kill here is undone by the next run's lock step).
      if (held) dropSecondName(backup.path, ctx.source);
      const failure = toToolError(error, target);
      failure.dataState ??= notPublished;
      throw failure;
    }
    ctx.checkpoint('publish-after-rename');

    if (held) {
      // The old file's name now is the backup's (and, in the hand-copy flow, still the copy's).
      held.release();
      ctx.report.backup = backup;
      try {
        fs.chmodSync(backup.path, PRIVATE_FILE_MODE);
      } catch (error) {
        ctx.report.notices.push(`Could not make ${backup.path} private (0600): ${(error as Error).message}.`);
      }
    }
    if (handCopy) {
      // As in the operator guide, the hand-prepared input is consumed; its content is the backup.
      sourceDb.close();
      removeDatabaseFiles(ctx.source);
      fsyncDirectory(ctx.workDir);
      ctx.report.notices.push(held ? `Moved ${ctx.source} into the backups as ${backup.path}.` : `Removed ${ctx.source}; its content is in ${backup.path}.`);
    }
    return { status: 'ok', detail: target };
  },
};

/** The held source gets the backup's name by a hard link, then its .sha256; both directories fsynced. */
function keepBackupName(ctx: RunContext, source: string, final: string, sha256: string): void {
  try {
    keepAs(source, final, 'link-only');
    writeChecksumFile(final, sha256);
    fsyncDirectory(ctx.backupDir);
  } catch (error) {
    // Nothing is published yet: the caller takes the backup's name back (the source keeps its own).
    throw toToolError(error, final);
  }
}
