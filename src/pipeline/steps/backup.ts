import fs from 'node:fs';
import path from 'node:path';
import { toToolError } from '../../errors.js';
import { openExclusive, tempPathBeside } from '../../files/create.js';
import { publishFile } from '../../files/durable.js';
import { streamHash, writeChecksumFile } from '../../files/checksum.js';
import { backupPrefix, freeStampedPath } from '../../files/names.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { removeDatabaseFiles } from '../../files/move-aside.js';

/**
 * The pristine copy becomes backups/health_records_backup_<stamp>.db with its .sha256
 * (sha256sum format). One read of the snapshot does three things: it hashes the backup as it
 * lies on disk (the read-back check), and writes the private work file the transform will
 * change. The backup gets its final name only then, and its checksum file last, so a backup
 * with a checksum is always complete.
 */
export const backupStep: Step = {
  name: 'backup',
  async run(ctx) {
    const { partial, final } = ctx.snapshot!;
    const work = tempPathBeside(path.join(ctx.workDir, path.basename(ctx.config.targetDb)), 'work');
    const fd = openExclusive(work);
    ctx.workFile = work;
    ctx.cleanups.push(() => removeDatabaseFiles(work));
    let sha256: string;
    try {
      // The work file is fsynced once, just before it is published.
      sha256 = await streamHash(partial, fd, async (done, total) => {
        ctx.emit({ step: 'backup', phase: 'progress', done, total, unit: 'bytes' });
        ctx.checkpoint('backup-bytes');
      }, false);
    } catch (error) {
      throw toToolError(error, work);
    } finally {
      fs.closeSync(fd);
    }
    ctx.backup = finishBackup(ctx, partial, final, sha256);
    return { status: 'ok', detail: final };
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
