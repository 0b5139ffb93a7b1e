// What both lints (SQLite's and PostgreSQL's) share: the finding, the rule's description and its
// level. It sits below lint.ts, the drivers and driver.ts, so that none of them imports another
// for a type (driver.ts → lint.ts → drivers/sqlite/connection.ts → driver.ts was a circle).

import type { UnrunnableFile } from './types.js';

/** How much a rule's findings count: an error fails the lint (exit 65), a warning is reported, off is not looked at. */
export type LintLevel = 'error' | 'warning' | 'off';

export interface LintFinding {
  file: string;
  line: number;
  rule: string;
  message: string;
  fix: string;
  /** `warning` when the rule's level (its default, or the project's dbshift.lint.json) is warning; absent means error. */
  level?: 'warning';
}

/**
 * Where a rule looks, so a reader knows what it can and cannot see:
 * `statement` one parsed statement alone; `chain` the schema the earlier migrations build
 * (parsed, not run); `file` the migration's files and document; `replay` the statements run on
 * a scratch database; `settings` the ignore comments and the project file themselves.
 */
export type LintWhere = 'statement' | 'chain' | 'file' | 'replay' | 'settings';

/** One rule of a registry: the docs' rule table is this list. */
export interface LintRuleInfo {
  /** What it checks. */
  checks: string;
  /** The usual fix (a finding may say a more specific one). */
  fix: string;
  where: LintWhere;
  /** Its level when the project file says nothing (default `error`; `off`: opt-in, the project file enables it). */
  level?: LintLevel;
  /** The squawk 2.66 rules it covers, if any. */
  squawk?: readonly string[];
}

export type LintRegistry = Readonly<Record<string, LintRuleInfo>>;

/** A finding for a registry's rule, with the rule's usual fix unless a more specific one is given. */
export function findingOf<R extends LintRegistry>(registry: R, rule: keyof R & string, file: string, line: number, message: string, fix?: string): LintFinding {
  return { file, line, rule, message, fix: fix ?? registry[rule]!.fix };
}

/** The rules both engines report the same way: the settings' own findings, and files that never run. */
export const SHARED_RULES = {
  'unrecognized-file': {
    checks: 'a file that looks like a migration but never runs (an Alembic .py, 1_init.sql, V1__init.sql)',
    fix: 'Rename it to NNNNNN_name.up.sql (and .down.sql), or move it out of the migrations directory.',
    where: 'file',
  },
  'ignore-without-reason': {
    checks: 'a `-- dbshift:ignore RULE` comment without a reason after the rule ids (it silences nothing)',
    fix: 'Say why after the rule ids: `-- dbshift:ignore RULE the reason`.',
    where: 'settings',
  },
  'ignore-unknown-rule': {
    checks: 'a `-- dbshift:ignore` comment naming a rule this lint does not have (a typo silences nothing)',
    fix: 'Use a rule id from `docs/lint.md` (the id in brackets in each finding).',
    where: 'settings',
  },
} as const satisfies LintRegistry;

/** Files that look like migrations but cannot run (up refuses them), and unversioned source files nothing runs (both lints report them). */
export function unrecognizedFindings(set: { ignored?: readonly string[]; unrunnable?: readonly UnrunnableFile[] }): LintFinding[] {
  return [
    ...(set.unrunnable ?? []).map((u) => findingOf(SHARED_RULES, 'unrecognized-file', u.file, 1, `${u.file} is ${u.problem}: \`up\` refuses the directory until it is fixed.`, u.fix)),
    ...(set.ignored ?? []).map((file) =>
      findingOf(SHARED_RULES, 'unrecognized-file', file, 1, `${file} has no version number (NNNNNN_name.up.sql / .down.sql / .ts / .js, dbmate's NNNNNN_name.sql): it never runs.`, 'Give it a version number if it is a migration, or move it out of the migrations directory.'),
    ),
  ].sort((a, b) => a.file.localeCompare(b.file));
}
