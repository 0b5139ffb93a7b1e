import { listBackups, type BackupEntry } from '../pipeline/list-backups.js';
import { pruneBackups, type PruneResult } from '../pipeline/prune-backups.js';
import type { CommandResult } from '../results.js';
import { configOf, settle, type PipelineOptions, type Settled } from './options.js';

export interface BackupsOptions extends PipelineOptions {
  /** Remove old backups: per database, keep the newest `keep` verified ones (and anything newer). */
  prune?: { keep: number };
}

export interface BackupsResult extends CommandResult {
  status: 'listed' | 'pruned' | 'failed';
  backupDir: string;
  /** False when any backup's checksum file is missing or no longer matches. */
  allChecksumsOk: boolean;
  /** Newest first. */
  backups: BackupEntry[];
  /** With `prune`: the backups removed (with their .sha256), and per database what was kept. */
  removed?: BackupEntry[];
  kept?: PruneResult['kept'];
}

/** `dbshift backups`: every backup, grouped by database, newest first, with whether its checksum still matches. Bad ones are listed as such, not failed. */
export function backups(options: BackupsOptions = {}): Promise<Settled<BackupsResult>> {
  return settle<BackupsResult>(
    'backups',
    async () => {
      const config = configOf(options);
      const before = await listBackups(config.backupDir);
      const pruned = options.prune ? pruneBackups(config.backupDir, before, options.prune.keep) : undefined;
      const found = pruned ? before.filter((b) => !pruned.removed.includes(b)) : before;
      return {
        ok: true,
        command: 'backups',
        status: pruned ? 'pruned' : 'listed',
        notices: [],
        backupDir: config.backupDir,
        allChecksumsOk: found.every((b) => b.checksum === 'ok'),
        backups: found,
        ...(pruned ? { removed: pruned.removed, kept: pruned.kept } : {}),
      };
    },
    (error) => ({ ok: false, command: 'backups', status: 'failed', notices: [], backupDir: options.backupDir ?? '', allChecksumsOk: false, backups: [], error }),
  );
}
