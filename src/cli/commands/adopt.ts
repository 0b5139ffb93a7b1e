import type { Command } from 'commander';
import { adopt } from '../../api/adopt.js';
import { engineOptions, errorLines, report, withEngineOptions, type EngineFlags } from '../engine-io.js';
import type { CliIo } from '../io.js';

export function registerAdopt(program: Command, io: CliIo): void {
  withEngineOptions(program.command('adopt'))
    .description('Take over a database Alembic or Flyway migrated: map its version table to a version of --dir and record it (as force does); nothing else changes. Refuses unless the mapping is exact.')
    .action(async (flags: EngineFlags) => {
      report(io, flags.json, await adopt(engineOptions(io, flags)), (r) =>
        r.ok
          ? [
              `dbshift adopt: OK`,
              `  Database  ${r.database}`,
              `  Found     ${r.found ?? ''} (${r.from ?? ''})`,
              `  Version   ${r.before?.version ?? 0} -> ${r.after?.version ?? r.version ?? 0}${r.recorded ? '' : ' (nothing recorded)'}`,
              ...r.notices.map((n) => `  ${n}`),
            ]
          : [`dbshift adopt: FAILED (exit ${r.error?.exitCode ?? 1})`, ...errorLines(r.error)],
      );
    });
}
