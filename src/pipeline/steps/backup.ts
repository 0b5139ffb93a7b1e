import { toToolError } from '../../errors.js';
import { finishBackup } from '../backup-files.js';
import type { Step } from '../run.js';
import type { BackupOut, PreflightOut, SnapshotOut } from '../step-data.js';

/**
 * The backup's hash and fsync, and the source's quick_check, ran beside the build; here they
 * are awaited (a damaged source stops here, 66).
 * - Copy routes: the snapshot becomes backups/health_records_backup_<stamp>.db, then gets its
 *   .sha256 (sha256sum format), so a backup with a checksum is always complete and durable.
 * - old-file route: nothing to move yet; the hash is of the held source's bytes, which publish
 *   gives the backup's name (and its .sha256) in the step that puts the new file in place.
 */
export const backupStep: Step<PreflightOut & SnapshotOut, BackupOut> = {
  name: 'backup',
  async run(ctx, { snapshot, sourceChecked }) {
    const foreignKeysBefore = await sourceChecked;
    const { partial, final } = snapshot;
    let sha256: string;
    try {
      sha256 = await snapshot.sha256.result;
      await snapshot.synced;
    } catch (error) {
      throw toToolError(error, partial ?? ctx.source);
    }
    if (snapshot.route === 'old-file' || !partial) {
      const detail = ctx.options.rehearse ? 'rehearsal: the old file would become the backup at publish' : `the old file becomes ${final} at publish`;
      return { status: 'ok', detail, out: { backup: { path: final, sha256 }, foreignKeysBefore, baseline: snapshot.baseline } };
    }
    const backup = finishBackup(ctx, partial, final, sha256);
    ctx.report.backup = backup;
    return { status: 'ok', detail: final, out: { backup, foreignKeysBefore, baseline: final } };
  },
};
