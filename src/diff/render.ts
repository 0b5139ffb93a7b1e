import type { Dialect } from './model.js';
import { PHASES, type DiffPlan, type Operation, type Phase } from './plan.js';

// The plan as migration files: one pair (up, down) and its document per phase that has work,
// numbered from the next free version in the directory's own style. Pure: the caller writes.

export interface GeneratedMigration {
  version: number;
  /** NNNNNN_name (or NNN_name: the directory's digits). */
  label: string;
  phase: Phase;
  transactional: boolean;
  up: string;
  down: string;
  doc: string;
}

const SUFFIX: Record<Phase, string> = { schema: '', concurrently: '_indexes', constraints: '_constraints', validate: '_validate' };

const WHY: Record<Phase, string> = {
  schema: 'The schema change, in one transaction with its bookkeeping.',
  concurrently: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block: this migration runs without one (golang-migrate\'s dirty protocol), and builds each index without blocking writes.',
  constraints: 'Constraints added NOT VALID (checked for new rows only, so no scan runs while the lock is held), and UNIQUE constraints attached to the indexes built CONCURRENTLY before.',
  validate: 'VALIDATE CONSTRAINT scans the rows under a lock that lets reads and writes go on; SET NOT NULL then uses the validated CHECK instead of a scan of its own.',
};

export function renderMigrations(plan: DiffPlan, options: { dialect: Dialect; name: string; version: number; digits: number; source: string }): GeneratedMigration[] {
  const phases = PHASES.filter((p) => plan.operations.some((o) => o.phase === p));
  return phases.map((phase, i) => {
    const version = options.version + i;
    const label = `${String(version).padStart(options.digits, '0')}_${options.name}${SUFFIX[phase]}`;
    const ops = plan.operations.filter((o) => o.phase === phase);
    const transactional = phase !== 'concurrently';
    const marker = transactional ? '' : '-- dbshift:no-transaction\n';
    const header = `-- ${label}: written by dbshift diff from ${options.source}; proven by replay (up, then down) before it was written.\n`;
    const up = `${marker}${header}${ops.map((o) => `\n-- ${o.summary}\n${o.up.join('\n')}\n`).join('')}`;
    const down = `${marker}-- ${label}: down (undoes the up file, last change first)\n${[...ops].reverse().map((o) => `\n-- undo: ${o.summary}\n${o.down.join('\n')}\n`).join('')}`;
    return { version, label, phase, transactional, up, down, doc: documentFor(label, phase, ops, options.dialect) };
  });
}

function documentFor(label: string, phase: Phase, ops: Operation[], dialect: Dialect): string {
  const lost = ops.flatMap((o) => o.loses ?? []);
  const rebuilt = ops.filter((o) => o.summary.startsWith('rebuild table ')).map((o) => o.summary.split(' ')[2]!);
  const risk: string[] = [];
  for (const what of lost) {
    risk.push(what.includes('.') ? `- Column \`${what}\` is dropped: its values are deleted (the down migration adds the column back, empty).` : `- Table \`${what}\` is dropped: its rows are deleted (the down migration creates it again, empty).`);
  }
  for (const table of rebuilt) {
    risk.push(`- Table \`${table}\` is rebuilt (sqlite.org's 12 steps): every row is copied into the new table, with its rowid, before DROP TABLE ${table} removes the old copy; its indexes, triggers and the views that name it are created again.`);
  }
  if (risk.length === 0) risk.push(`No data is lost: this migration drops no table and no column, and rewrites no rows.`);
  const reversible = lost.length > 0 ? `Reversible in schema only: ${label} down restores the structure, not the values of ${lost.map((l) => `\`${l}\``).join(', ')}. Restore the backup taken before \`up\` to get them back.` : `Fully reversible by ${label} down (replayed by dbshift diff before this file was written).`;
  return `# ${label}

## Overview
Written by \`dbshift diff\` (${dialect}). ${WHY[phase]}

${ops.map((o) => `- ${o.summary}`).join('\n')}

## Data-loss risk
${risk.join('\n')}

## Reversibility
${reversible}

## Testing
1. \`dbshift up --database <copy>\`, then inspect the schema and data.
2. \`dbshift diff --check\` against the same desired schema: exit 0.
3. \`dbshift down 1 --database <copy>\`, check the schema is back; \`dbshift up\` again.

## Rollback plan
\`dbshift down 1\`; if that is not enough, \`dbshift restore\` the backup taken before \`up\`.
`;
}
