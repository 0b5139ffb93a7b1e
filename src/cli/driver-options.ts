import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';

// Options about waiting and timeouts: --wait for both databases, the rest for PostgreSQL
// (SQLite ignores them). Only the commands that change a database take the lock and run
// migration statements; the ones that read (version, history, validate, lint) list only the
// version table's name, so each --help shows only what means something there.

/** `changes`: the command takes the migration lock and runs statements; `reads`: it only reads. */
export type CommandKind = 'changes' | 'reads';

export function withDriverOptions(command: Command, kind: CommandKind = 'changes'): Command {
  const wait = new Option('--wait [seconds]', 'wait for another run\'s lock (default 300 s) instead of exiting 75');
  // golang-migrate's -lock-timeout N (our --wait N) comes before any command, `version` too:
  // accepted there so its command lines keep working, but not listed where it means nothing.
  if (kind === 'reads') command.addOption(wait.hideHelp());
  if (kind === 'changes') {
    command
      .addOption(wait)
      .option('--pg-lock-timeout <ms>', 'PostgreSQL: lock_timeout for every migration statement (default 5000; 0 waits forever), retried 3 times. Not golang-migrate\'s -lock-timeout N, which is --wait N')
      .option('--statement-timeout <ms>', 'PostgreSQL: statement_timeout for every migration statement (default: the server\'s)');
  }
  return command
    .option('--migrations-table <name>', 'the version table, each with its own history: "table", or on PostgreSQL "schema.table" (default schema_migrations; golang-migrate\'s x-migrations-table works too on PostgreSQL)');
}

/** 5000 (milliseconds) or 5s. */
export function milliseconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(ms|s)?$/.exec(value.trim());
  if (!match) throw new UsageError('bad-number', `${flag} takes milliseconds (5000) or seconds (5s), got "${value}".`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** --wait alone waits 300 s; --wait N waits N seconds (or Nms). Undefined: do not wait. */
export function waitMsFrom(flags: { wait?: boolean | string }): number | undefined {
  if (flags.wait === undefined || flags.wait === false) return undefined;
  if (flags.wait === true) return 300_000;
  return milliseconds(/^\d+$/.test(flags.wait.trim()) ? `${flags.wait.trim()}s` : flags.wait, '--wait');
}
