import type { CliIo } from '../io.js';
import { runTarget } from '../../api/versioned.js';
import type { Target } from '../../engine/plan.js';
import { engineOptions, engineProgressLines, report, type EngineFlags } from '../engine-io.js';
import { renderVersions } from '../render-engine.js';

export interface VersionsFlags extends EngineFlags {
  wait?: boolean | string;
  dryRun?: boolean;
  backup?: boolean;
  create?: boolean;
}

/** up, down, goto, upgrade and downgrade differ only in how they name the target. */
export async function runVersionsCommand(io: CliIo, command: string, target: Target, flags: VersionsFlags): Promise<void> {
  const result = await runTarget(command, target, {
    ...engineOptions(io, flags),
    dryRun: !!flags.dryRun,
    backup: flags.backup !== false,
    create: !!flags.create,
    ...(flags.json ? {} : { onProgress: engineProgressLines(io) }),
  });
  report(io, flags.json, result, renderVersions);
}

export const ALL = ['--all', 'allow reverting every applied migration (back to an empty schema history)'] as const;
export const DRY_RUN = ['--dry-run', 'print the migrations and their SQL, change nothing'] as const;
export const NO_BACKUP = ['--no-backup', 'skip the timestamped backup taken before any change'] as const;
