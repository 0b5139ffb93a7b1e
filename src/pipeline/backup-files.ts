import fs from 'node:fs';
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

/**
 * Whether publish replaces the source (`SOURCE_DB` is the target) or consumes it (the operator
 * guide's hand copy), so that its old file could become the backup, and why (not). Quiescence
 * and the filesystem are for the snapshot to prove.
 */
export function sourceReplacedAtPublish(ctx: RunContext): { ok: boolean; why: string } {
  if (ctx.options.backup === 'copy') return { ok: false, why: '--backup copy asks for an independent copy' };
  if (ctx.source === ctx.config.handPreparedDb) return { ok: true, why: 'it is the hand-made copy, consumed at publish' };
  if (sameFile(ctx.source, ctx.config.targetDb)) return { ok: true, why: 'it is the file publish replaces' };
  return { ok: false, why: 'the source stays where it is after publish (it is not the target), so its file cannot become the backup' };
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = fs.statSync(a);
    const y = fs.statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
