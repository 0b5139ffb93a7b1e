import type { Command } from 'commander';
import { listBackups } from '../../pipeline/list-backups.js';
import { configFrom, type CliIo } from '../io.js';

export function registerBackups(program: Command, io: CliIo): void {
  program
    .command('backups')
    .description('List backups, newest first, with time, size and whether the checksum still matches.')
    .option('--json', 'print exactly one JSON object on stdout')
    .action(async (flags: { json?: boolean }) => {
      const config = configFrom(io);
      const backups = await listBackups(config);
      const ok = backups.every((b) => b.checksum === 'ok');
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ ok, status: 'listed', backupDir: config.backupDir, backups }, null, 2)}\n`);
      } else if (backups.length === 0) {
        io.stdout.write(`No backups in ${config.backupDir}.\n`);
      } else {
        io.stdout.write(`Backups in ${config.backupDir} (newest first)\n`);
        for (const b of backups) {
          const verdict = b.checksum === 'ok' ? 'checksum ok' : b.checksum === 'missing' ? 'NO CHECKSUM FILE' : 'CHECKSUM MISMATCH';
          io.stdout.write(`  ${b.takenAt}  ${(b.bytes / 1024 / 1024).toFixed(1).padStart(9)} MiB  ${verdict.padEnd(17)}  ${b.path}\n`);
        }
      }
      // Listing succeeds even when some backups are bad; bad ones are shown as such.
      io.exitCode = 0;
    });
}
