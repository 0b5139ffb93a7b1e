import { Option, type Command } from 'commander';
import type { Config } from '../../config.js';
import { publishTarget } from '../../files/target-link.js';
import { migrate } from '../../api/migrate.js';
import { configFrom, runAndReport, type CliIo } from '../io.js';

const HELP = `
Needs SECRET_KEY (the app's production key) in the environment or in .env
(ENV_FILE names another file); never on the command line.

Where files go (said again before any work starts):
  source   --source, else SOURCE_DB, else INSTANCE_DIR/health_records_old.db
           (the hand copy)
  publish  INSTANCE_DIR/health_records.db; without INSTANCE_DIR, beside the
           source: SOURCE_DB=/srv/app/instance/health_records.db publishes
           /srv/app/instance/health_records.db
  backups  BACKUP_DIR; without it, beside the source: /srv/app/backups for a
           source in /srv/app/instance/, else <source's directory>/backups.
           The backup, its .sha256, the replaced file and the JSON record of
           the run all go there.
  Only with no source named do instance/ and backups/ mean the current
  directory.

Examples:
  export SOURCE_DB=/srv/app/instance/health_records.db
  dbshift migrate --rehearse          # the night before; touches nothing
  dbshift plan                        # what will happen; writes nothing
  dbshift migrate                     # the migration
  dbshift migrate --json > run.json   # one JSON object on stdout
`;

/** ", a link to /data/live.db" when the target is a symlink: that file is where the new one goes. */
function linkedTo(target: string): string {
  try {
    const resolved = publishTarget(target);
    return resolved.link ? `, a link to ${resolved.path}` : '';
  } catch {
    return ', a broken link'; // refused by migrate itself, with the reason
  }
}

/** Before any work, on stderr: where the migrated file will be published and where backups go. */
export function announceLocations(io: CliIo, config: Config, rehearse: boolean): void {
  const lines = [
    `dbshift migrate: source  ${config.sourceDb}`,
    // One fact a line, each short, so that an 80-column terminal breaks only inside a long path.
    ...(rehearse
      ? ['  rehearsal: everything happens in a temporary directory;', '  nothing is published or backed up']
      : [`  publish to  ${config.targetDb}${linkedTo(config.targetDb)}`, `              (${config.dirsFrom.instanceDir})`, `  backups in  ${config.backupDir}`, `              (${config.dirsFrom.backupDir})`]),
  ];
  io.stderr.write(`${lines.join('\n')}\n`);
}

export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('Migrate the source database to health-records v5: preflight, snapshot, backup, atomic transform, verify, publish.')
    .option('--source <path>', 'the live database to migrate (default: $SOURCE_DB, else instance/health_records_old.db)')
    .option('--strict', 'treat any warning as fatal, before anything is written')
    .option('--rehearse', 'run everything on a temporary copy, verify it, discard it and report timings; instance/ and backups/ are not touched')
    .addOption(
      new Option('--backup <route>', 'auto: the old file itself becomes the backup when the source is provably quiescent and replaced at publish (no bytes written), else a copy; copy: always an independent copy, made before the build')
        .choices(['auto', 'copy'])
        .default('auto'),
    )
    .option('--json', 'print exactly one JSON object on stdout')
    .addHelpText('after', HELP)
    .action(async (flags: { source?: string; strict?: boolean; rehearse?: boolean; json?: boolean; backup: string }) => {
      const config = configFrom(io, flags);
      await runAndReport(
        io,
        flags.rehearse ? 'migrate --rehearse' : 'migrate',
        !!flags.json,
        (options) => migrate({ ...options, config, strict: !!flags.strict, rehearse: !!flags.rehearse, backup: flags.backup as 'auto' | 'copy' }),
        // Once migrate got past its refusals (a versioned project), before any work starts.
        () => (flags.json ? undefined : announceLocations(io, config, !!flags.rehearse)),
      );
    });
}
