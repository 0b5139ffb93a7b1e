import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { drop } from '../../api/drop.js';
import { UsageError } from '../../errors.js';
import { engineOptions, errorLines, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';
import { NO_BACKUP } from './versioned.js';

// golang-migrate's `drop [-f]`: it asks "Are you sure … [y/N]" unless -f, so in a script
// without a terminal it drops nothing; dbshift refuses there in so many words (64).

interface DropFlags extends EngineFlags {
  force?: boolean;
  backup?: boolean;
}

async function confirmed(io: CliIo): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new UsageError('drop-needs-force', 'drop deletes every table and needs -f when no one is at a terminal to confirm it.', {
      hint: 'Run `dbshift drop -f` if you mean it (a backup is taken first unless --no-backup).',
      dataState: 'Nothing was changed.',
    });
  }
  const rl = readline.createInterface({ input: process.stdin, output: io.stderr });
  try {
    const answer = await rl.question('Are you sure you want to drop the entire database schema? [y/N] ');
    return answer.trim().toLowerCase() === 'y';
  } finally {
    rl.close();
  }
}

export function registerDrop(program: Command, io: CliIo): void {
  withEngineOptions(program.command('drop'))
    .description('Drop every table (PostgreSQL: of the current schema), the version table included, after a backup. golang-migrate: drop [-f].')
    .option('-f, --force', 'do not ask for confirmation')
    .option(...NO_BACKUP)
    .action(async (flags: DropFlags) => {
      if (!flags.force && !(await confirmed(io))) {
        io.stderr.write('dbshift: drop aborted; nothing was changed.\n');
        io.exitCode = 1;
        return;
      }
      const result = await drop({ ...engineOptions(io, flags), ...(flags.backup === false ? { backup: false } : {}) });
      report(io, flags.json, result, (r) =>
        r.ok
          ? [`dbshift drop: OK`, `  Database  ${r.database}`, `  Dropped   ${r.dropped.length ? r.dropped.join(', ') : '(nothing)'}`, ...(r.backup ? [`  Backup    ${r.backup.path}`] : []), ...r.notices.map((n) => `  ${n}`)]
          : [`dbshift drop: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
      );
    });
}
