import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { backups as listBackups } from '../../api/backups.js';
import type { BackupEntry } from '../../pipeline/list-backups.js';
import type { PruneResult } from '../../pipeline/prune-backups.js';
import { errorLines, wholeNumber } from '../engine-io.js';
import { configFrom, printResult, type CliIo } from '../io.js';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1).padStart(9)} MiB`;

function renderGroups(backups: BackupEntry[]): string[] {
  const lines: string[] = [];
  for (const database of [...new Set(backups.map((b) => b.database))]) {
    lines.push(`  ${database} (newest first)`);
    for (const b of backups.filter((x) => x.database === database)) {
      const verdict = b.checksum === 'ok' ? 'checksum ok' : b.checksum === 'missing' ? 'NO CHECKSUM FILE' : 'CHECKSUM MISMATCH';
      lines.push(`    ${b.takenAt}  ${mib(b.bytes)}  ${verdict.padEnd(17)}  ${b.path}${b.format === 'pg_dump' ? '  (pg_dump)' : ''}`);
    }
  }
  return lines;
}

function renderPrune(prune: PruneResult): string[] {
  const lines = [prune.removed.length === 0 ? 'Removed nothing.' : `Removed ${prune.removed.length} backups (${mib(prune.removed.reduce((n, b) => n + b.bytes, 0)).trim()}):`];
  for (const b of prune.removed) lines.push(`  ${b.path} (+ .sha256)`);
  for (const k of prune.kept) lines.push(`Kept for ${k.database}: ${k.total} backups${k.note ? ` (${k.note})` : ''}`);
  return lines;
}

export function registerBackups(program: Command, io: CliIo): void {
  program
    .command('backups')
    .description('List every backup in BACKUP_DIR, grouped by database, newest first, with time, size and whether the checksum still matches.')
    .option('--prune', 'remove old backups: per database, keep the newest --keep N verified ones (and anything newer)')
    .option('--keep <n>', 'with --prune: how many verified backups to keep per database (at least 1)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { prune?: boolean; keep?: string; json?: boolean }) => {
      if (flags.prune && flags.keep === undefined) throw new UsageError('missing-keep', '--prune needs --keep N (how many verified backups to keep per database).');
      if (!flags.prune && flags.keep !== undefined) throw new UsageError('keep-without-prune', '--keep only applies with --prune.');
      const config = configFrom(io);
      // Listing succeeds even when some backups are bad; bad ones are shown as such.
      const result = await listBackups({ config, cwd: io.cwd, ...(flags.prune ? { prune: { keep: wholeNumber(flags.keep!, '--keep') } } : {}) });
      printResult(io, 'backups', flags.json, result, (r) => {
        if (!r.ok) return [`dbshift backups: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)].join('\n');
        const lines = r.removed && r.kept ? [...renderPrune({ removed: r.removed, kept: r.kept }), ''] : [];
        if (r.backups.length === 0) lines.push(`No backups in ${r.backupDir}.`);
        else lines.push(`Backups in ${r.backupDir}`, ...renderGroups(r.backups));
        return lines.join('\n');
      });
    });
}
