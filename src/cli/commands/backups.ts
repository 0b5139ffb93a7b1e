import type { Command } from 'commander';
import { listBackups } from '../../pipeline/list-backups.js';
import { configFrom, printResult, type CliIo } from '../io.js';

export function registerBackups(program: Command, io: CliIo): void {
  program
    .command('backups')
    .description('List backups, newest first, with time, size and whether the checksum still matches.')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { json?: boolean }) => {
      const config = configFrom(io);
      const backups = await listBackups(config);
      // Listing succeeds even when some backups are bad; bad ones are shown as such.
      const result = { ok: true, command: 'backups', status: 'listed', notices: [], backupDir: config.backupDir, allChecksumsOk: backups.every((b) => b.checksum === 'ok'), backups };
      printResult(io, 'backups', flags.json, result, (r) => {
        if (r.backups.length === 0) return `No backups in ${r.backupDir}.`;
        const lines = [`Backups in ${r.backupDir} (newest first)`];
        for (const b of r.backups) {
          const verdict = b.checksum === 'ok' ? 'checksum ok' : b.checksum === 'missing' ? 'NO CHECKSUM FILE' : 'CHECKSUM MISMATCH';
          lines.push(`  ${b.takenAt}  ${(b.bytes / 1024 / 1024).toFixed(1).padStart(9)} MiB  ${verdict.padEnd(17)}  ${b.path}`);
        }
        return lines.join('\n');
      });
    });
}
