import type { Command } from 'commander';
import type { CliIo } from './io.js';

// The command table: what `dbshift --help` lists, and where each command's module is. A
// command's module (its options, its action, and through them the library and the database
// drivers) is imported only when argv names that command: `dbshift --version` and
// `dbshift --help` load none of them (docs/architecture.md: "The CLI's lazy command table").
// test/unit/commands-table.test.ts checks that each module registers the name and aliases
// written here.

type Register = (program: Command, io: CliIo) => void;

export interface CommandEntry {
  name: string;
  aliases?: string[];
  /** One line for `dbshift --help` (the command's own --help has the full description). */
  summary: string;
  load: () => Promise<Register>;
}

export interface CommandGroup {
  title: string;
  commands: CommandEntry[];
}

export const COMMAND_GROUPS: CommandGroup[] = [
  {
    title: 'Versioned migrations, SQLite and PostgreSQL (golang-migrate, dbmate, Alembic)',
    commands: [
      { name: 'up', summary: 'apply pending migrations (backup first)', load: async () => (await import('./commands/up.js')).registerUp },
      { name: 'down', summary: 'revert applied migrations, newest first', load: async () => (await import('./commands/down.js')).registerDown },
      { name: 'goto', summary: 'migrate up or down to version V', load: async () => (await import('./commands/goto.js')).registerGoto },
      { name: 'upgrade', summary: 'Alembic-style up (head, +N, REV)', load: async () => (await import('./commands/upgrade.js')).registerUpgrade },
      { name: 'downgrade', summary: 'Alembic-style down (-N, REV, base)', load: async () => (await import('./commands/downgrade.js')).registerDowngrade },
      { name: 'version', aliases: ['current'], summary: 'the database\'s version, and DIRTY after a failure', load: async () => (await import('./commands/version.js')).registerVersion },
      { name: 'history', summary: 'every migration, applied and pending, and the log', load: async () => (await import('./commands/history.js')).registerHistory },
      { name: 'validate', summary: 'check the migrations against the database', load: async () => (await import('./commands/validate.js')).registerValidate },
      { name: 'lint', summary: 'check SQL migrations for SQLite or PostgreSQL pitfalls', load: async () => (await import('./commands/lint.js')).registerLint },
      { name: 'create', summary: 'write the next migration (.sql pair or .ts)', load: async () => (await import('./commands/create.js')).registerCreate },
      { name: 'revision', summary: 'Alembic-style create (-m, --autogenerate)', load: async () => (await import('./commands/revision.js')).registerRevision },
      { name: 'diff', summary: 'write the next migration from a desired schema', load: async () => (await import('./commands/diff.js')).registerDiff },
      { name: 'force', aliases: ['stamp'], summary: 'mark the database clean at version V', load: async () => (await import('./commands/force.js')).registerForce },
      { name: 'drop', summary: 'drop every table, after a backup', load: async () => (await import('./commands/drop.js')).registerDrop },
      { name: 'import', summary: 'translate an Alembic project into SQL migrations', load: async () => (await import('./commands/import.js')).registerImport },
      { name: 'adopt', summary: 'take over a database Alembic or Flyway migrated', load: async () => (await import('./commands/adopt.js')).registerAdopt },
    ],
  },
  {
    title: 'The HealthSum v5 migration (SQLite, maintenance window)',
    commands: [
      { name: 'plan', summary: 'preflight only, writes nothing', load: async () => (await import('./commands/plan.js')).registerPlan },
      { name: 'migrate', summary: 'migrate the source database to health-records v5', load: async () => (await import('./commands/migrate.js')).registerMigrate },
      { name: 'verify', summary: 'verify a database, read-only', load: async () => (await import('./commands/verify.js')).registerVerify },
      { name: 'sample', summary: 'write a pre-v5 HealthSum database to rehearse on', load: async () => (await import('./commands/sample.js')).registerSample },
    ],
  },
  {
    title: 'Backups (any SQLite database)',
    commands: [
      { name: 'backup', summary: 'a timestamped, checksummed backup of the source', load: async () => (await import('./commands/backup.js')).registerBackup },
      { name: 'backups', summary: 'list (and prune) the backups, newest first', load: async () => (await import('./commands/backups.js')).registerBackups },
      { name: 'restore', summary: 'roll back to a checked backup', load: async () => (await import('./commands/restore.js')).registerRestore },
    ],
  },
];

export const COMMANDS: CommandEntry[] = COMMAND_GROUPS.flatMap((group) => group.commands);

/** The command argv names (its first argument that is a command's name or alias; `help X` names X). */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const find = (word: string | undefined) => COMMANDS.find((c) => c.name === word || c.aliases?.includes(word ?? ''));
  const index = argv.findIndex((a) => a === 'help' || find(a));
  if (index === -1) return undefined;
  return argv[index] === 'help' ? find(argv[index + 1]) : find(argv[index]);
}

/** `dbshift --help`: the commands by group, examples, the environment and where exit codes are. */
export function programHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => [c.name, ...(c.aliases ?? [])].join('|').length));
  const groups = COMMAND_GROUPS.map((group) => `${group.title}:\n${group.commands.map((c) => `  ${[c.name, ...(c.aliases ?? [])].join('|').padEnd(width)}  ${c.summary}`).join('\n')}`);
  return `Usage: dbshift <command> [options]

Safe database migrations: versioned SQL and code migrations for SQLite and
PostgreSQL (golang-migrate, dbmate and Alembic spellings), and the HealthSum v5
maintenance-window migration. Every change is backed up first and verified.

${groups.join('\n\n')}

Options:
  -V, --version  print the version
  -h, --help     this help; dbshift <command> --help for a command's options

Examples:
  dbshift create add_users --dir migrations
  dbshift up --database app.db --dir migrations
  dbshift up --database postgres://app@db/app --dir migrations
  dbshift lint --dir migrations
  dbshift migrate --rehearse              # HealthSum v5, the night before

Environment (and .env, or the file ENV_FILE names):
  DATABASE, DATABASE_URL    the database (a SQLite path or a postgres:// URL)
  MIGRATIONS_DIR            the migrations directory (default migrations)
  SOURCE_DB, SECRET_KEY     HealthSum v5: the source database, the app's key
  INSTANCE_DIR, BACKUP_DIR  HealthSum v5: where it publishes, where backups go
  PGHOST, PGUSER, ...       libpq's variables, for postgres:// URLs

Exit codes: 0 ok, 64 usage, 65 data, 66 input, 73 cannot create, 74 I/O,
75 busy, 78 configuration, 130 interrupted; docs/exit-codes.md says what each
means and what to do.
`;
}
