import { toToolError } from '../../errors.js';
import { tempPathBeside } from '../../files/create.js';
import { publishFile } from '../../files/durable.js';
import { writeChecksumFile } from '../../files/checksum.js';
import { backupPrefix, freeStampedPath } from '../../files/names.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { removeDatabaseFiles } from '../../files/move-aside.js';
import type { SnapshotOut } from './snapshot.js';
import type { PreflightOut } from './preflight.js';
import type { ForeignKeyViolation } from '../../sqlite/checks.js';

export interface BackupOut {
  backup: { path: string; sha256: string };
  /** Foreign-key violations already in the source (reported, never repaired): verification fails only on new ones. */
  foreignKeysBefore: ForeignKeyViolation[];
}

/**
 * The snapshot becomes backups/health_records_backup_<stamp>.db with its .sha256 (sha256sum
 * format). Its hash and its fsync, and the source's quick_check, ran beside the build; here
 * they are awaited. The backup gets
 * its final name only then, and its checksum file last, so a backup with a checksum is always
 * complete and durable.
 */
export const backupStep: Step<PreflightOut & SnapshotOut, BackupOut> = {
  name: 'backup',
  async run(ctx, { snapshot, sourceChecked }) {
    // The source's quick_check ran beside the snapshot and the build: a damaged source stops here (66).
    const foreignKeysBefore = await sourceChecked;
    const { partial, final } = snapshot;
    let sha256: string;
    try {
      sha256 = await snapshot.sha256.result;
      await snapshot.synced;
    } catch (error) {
      throw toToolError(error, partial);
    }
    const backup = finishBackup(ctx, partial, final, sha256);
    ctx.report.backup = backup;
    return { status: 'ok', detail: final, out: { backup, foreignKeysBefore } };
  },
};

/** Give a complete, hashed backup its final name, then write its checksum file. */
export function finishBackup(ctx: RunContext, partial: string, final: string, sha256: string): { path: string; sha256: string } {
  publishFile(partial, final, 'new-name');
  ctx.checkpoint('backup-renamed');
  writeChecksumFile(final, sha256);
  return { path: final, sha256 };
}

/** A name for a new backup of `database` (migrate: its target) and its partial file, registered for cleanup. */
export function reserveBackup(ctx: RunContext, database = ctx.config.targetDb): { partial: string; final: string } {
  const final = freeStampedPath(ctx.backupDir, backupPrefix(database), ctx.now(), '.db');
  const partial = tempPathBeside(final, 'partial');
  ctx.cleanups.push(() => removeDatabaseFiles(partial));
  return { partial, final };
}
