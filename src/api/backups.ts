import { listBackups, type BackupEntry } from '../pipeline/list-backups.js';
import type { CommandResult } from '../results.js';
import { configOf, settle, type PipelineOptions, type Settled } from './options.js';

export interface BackupsResult extends CommandResult {
  status: 'listed' | 'failed';
  backupDir: string;
  /** False when any backup's checksum file is missing or no longer matches. */
  allChecksumsOk: boolean;
  /** Newest first. */
  backups: BackupEntry[];
}

/** `dbshift backups`: every backup, newest first, with whether its checksum still matches. Bad ones are listed as such, not failed. */
export function backups(options: PipelineOptions = {}): Promise<Settled<BackupsResult>> {
  return settle<BackupsResult>(
    'backups',
    async () => {
      const config = configOf(options);
      const found = await listBackups(config);
      return { ok: true, command: 'backups', status: 'listed', notices: [], backupDir: config.backupDir, allChecksumsOk: found.every((b) => b.checksum === 'ok'), backups: found };
    },
    (error) => ({ ok: false, command: 'backups', status: 'failed', notices: [], backupDir: options.backupDir ?? '', allChecksumsOk: false, backups: [], error }),
  );
}
