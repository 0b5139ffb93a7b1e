import fs from 'node:fs';
import { checksumPathFor } from '../files/checksum.js';
import { fsyncDirectory } from '../files/durable.js';
import { UsageError } from '../errors.js';
import type { BackupEntry } from './list-backups.js';

export interface PruneResult {
  /** Backups removed (with their .sha256), per database, oldest last. */
  removed: BackupEntry[];
  /** Per database: how many verified backups were kept, and why nothing was removed if so. */
  kept: Array<{ database: string; verified: number; total: number; note?: string }>;
}

/**
 * `dbshift backups --prune --keep N`: per database, the newest N backups whose checksum still
 * matches are kept, with everything newer than them; only backups older than the N-th verified
 * one are removed. A database with fewer than N verified backups loses nothing: a damaged
 * newest backup must never be the reason its good predecessors are deleted. Replaced files
 * (`*_replaced_*`) and JSON records are never pruned.
 */
export function pruneBackups(backupDir: string, entries: BackupEntry[], keep: number): PruneResult {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new UsageError('bad-keep', `--keep must be a whole number from 1 up, got ${keep}: pruning never removes every backup.`, { dataState: 'Nothing was removed.' });
  }
  const result: PruneResult = { removed: [], kept: [] };
  // A SQLite app.db and a PostgreSQL database named app are two databases.
  const databases = [...new Map(entries.map((e) => [`${e.format}:${e.database}`, { database: e.database, format: e.format }])).values()];
  for (const { database, format } of databases) {
    const own = entries.filter((e) => e.database === database && e.format === format); // newest first
    let verified = 0;
    let cut = own.length;
    for (const [i, entry] of own.entries()) {
      if (entry.checksum === 'ok') verified++;
      if (verified === keep) {
        cut = i + 1;
        break;
      }
    }
    if (verified < keep) {
      result.kept.push({ database, verified, total: own.length, note: `only ${verified} verified backup${verified === 1 ? '' : 's'}; nothing removed` });
      continue;
    }
    for (const entry of own.slice(cut)) {
      fs.rmSync(checksumPathFor(entry.path), { force: true });
      fs.rmSync(entry.path, { force: true });
      result.removed.push(entry);
    }
    result.kept.push({ database, verified: keep, total: cut });
  }
  if (result.removed.length > 0) fsyncDirectory(backupDir);
  return result;
}
