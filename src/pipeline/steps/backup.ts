import fs from 'node:fs';
import { IoError, toToolError } from '../../errors.js';
import { openExclusive, tempPathBeside } from '../../files/create.js';
import { publishFile } from '../../files/durable.js';
import { sha256File, streamHash, writeChecksumFile } from '../../files/checksum.js';
import { BACKUP_PREFIX, freeStampedPath } from '../../files/names.js';
import type { RunContext } from '../context.js';
import type { Step } from '../run.js';
import { removeDatabaseFiles } from './snapshot.js';

/**
 * The pristine copy: backups/health_records_backup_<stamp>.db and its .sha256 (sha256sum
 * format). Written under a temp name and renamed, and the checksum file comes last, so a
 * backup with a checksum is always complete. Read back and checked before the run goes on.
 */
export const backupStep: Step = {
  name: 'backup',
  async run(ctx) {
    const backup = await writeVerifiedBackup(ctx, ctx.workFile!);
    ctx.backup = backup;
    return { status: 'ok', detail: backup.path };
  },
};

/** Copy a quiescent file (the work file) into a backup, hashing it on the way. */
export function writeVerifiedBackup(ctx: RunContext, from: string): Promise<{ path: string; sha256: string }> {
  return createVerifiedBackup(ctx, async (partial) => {
    const fd = openExclusive(partial);
    try {
      return await streamHash(from, fd, async (done, total) => {
        ctx.emit({ step: 'backup', phase: 'progress', done, total, unit: 'bytes' });
        ctx.checkpoint('backup-bytes');
      });
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * `write` fills the partial file and returns its SHA-256. Then: rename into place, write the
 * checksum file, read the backup back and compare.
 */
export async function createVerifiedBackup(ctx: RunContext, write: (partial: string) => Promise<string>): Promise<{ path: string; sha256: string }> {
  const final = freeStampedPath(ctx.backupDir, BACKUP_PREFIX, ctx.now(), '.db');
  const partial = tempPathBeside(final, 'partial');
  ctx.cleanups.push(() => removeDatabaseFiles(partial));
  let sha256: string;
  try {
    sha256 = await write(partial);
  } catch (error) {
    throw toToolError(error, partial);
  }
  publishFile(partial, final, 'new-name');
  ctx.checkpoint('backup-renamed');
  writeChecksumFile(final, sha256);
  const reread = await sha256File(final);
  if (reread !== sha256) {
    throw new IoError('backup-unreadable', `The backup ${final} reads back differently from what was written.`, {
      hint: 'The disk under the backup directory is failing; use another one (BACKUP_DIR).',
    });
  }
  return { path: final, sha256 };
}
