import { tempPathBeside } from '../files/create.js';
import { writeChecksumFile } from '../files/checksum.js';
import { publishFile } from '../files/durable.js';
import { removeDatabaseFiles } from '../files/move-aside.js';
import { backupPrefix, freeStampedPath } from '../files/names.js';
import type { RunContext } from './context.js';

// Backup names and the last act of a copied backup, shared by migrate's snapshot and backup
// steps and by `dbshift backup`.

/** Give a complete, hashed backup its final name, then write its checksum file. */
export function finishBackup(ctx: RunContext, partial: string, final: string, sha256: string): { path: string; sha256: string } {
  publishFile(partial, final, 'new-name');
  ctx.checkpoint('backup-renamed');
  writeChecksumFile(final, sha256);
  return { path: final, sha256 };
}

/** A name for a new backup of `database` (migrate: its target). */
export function backupName(ctx: RunContext, database = ctx.config.targetDb): string {
  return freeStampedPath(ctx.backupDir, backupPrefix(database), ctx.now(), '.db');
}

/** A name for a new backup of `database` (migrate: its target) and its partial file, registered for cleanup. */
export function reserveBackup(ctx: RunContext, database = ctx.config.targetDb): { partial: string; final: string } {
  const final = backupName(ctx, database);
  const partial = tempPathBeside(final, 'partial');
  ctx.cleanups.push(() => removeDatabaseFiles(partial));
  return { partial, final };
}
