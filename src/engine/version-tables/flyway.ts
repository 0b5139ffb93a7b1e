import type { MigrationDefinition } from '../types.js';

// Flyway's flyway_schema_history: one row per run script (installed_rank, version, type,
// success). The newest successful versioned row is the version; a failed row means Flyway
// itself would refuse to go on (`flyway repair`), so adopt does too.

export const FLYWAY_TABLE = 'flyway_schema_history';
export const FLYWAY_ROWS_SQL = `SELECT installed_rank, version, description, type, success FROM ${FLYWAY_TABLE} ORDER BY installed_rank`;

interface FlywayRow {
  installed_rank: unknown;
  version: unknown;
  description: unknown;
  type: unknown;
  success: unknown;
}

export function mapFlywayVersion(rows: ReadonlyArray<FlywayRow>, migrations: ReadonlyArray<Pick<MigrationDefinition, 'version'>>): { version: number; found: string } | { problem: string } {
  const failed = rows.find((r) => r.success === false || r.success === 0 || r.success === '0' || r.success === 'f');
  if (failed) return { problem: `flyway_schema_history records a failed migration (version ${String(failed.version)}, ${String(failed.description)}): run \`flyway repair\` (or finish it by hand) first` };
  const versioned = rows.filter((r) => r.version !== null && r.version !== undefined && r.type !== 'BASELINE' && r.type !== 'DELETE');
  const undone = rows.some((r) => String(r.type).startsWith('UNDO'));
  if (undone) return { problem: 'flyway_schema_history records undo migrations: the applied set is not a simple prefix; adopt after `flyway migrate` to the version you want' };
  const last = versioned.at(-1);
  if (!last) return { version: 0, found: 'flyway_schema_history has no versioned migration' };
  const text = String(last.version);
  if (!/^\d+$/.test(text)) return { problem: `Flyway's version ${text} is not a whole number, so it names no dbshift version exactly (rename V${text}__… to a numbered file first)` };
  const version = Number(text);
  if (!migrations.some((m) => m.version === version)) return { problem: `Flyway's version ${text} has no migration with that number in the directory` };
  return { version, found: `flyway_schema_history version ${text}` };
}
