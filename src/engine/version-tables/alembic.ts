import { ALEMBIC_REVISION_LINE } from '../import-alembic.js';

// Alembic's alembic_version (version_num, one row per head; no row at base), mapped to the
// migration `dbshift import alembic` wrote for that revision (its `-- alembic revision:` line).

export const ALEMBIC_TABLE = 'alembic_version';

export type Mapping = { version: number; found: string } | { problem: string };

export function mapAlembicVersion(rows: ReadonlyArray<{ version_num: unknown }>, migrations: ReadonlyArray<{ version: number; up?: { sql?: string } }>): Mapping {
  if (rows.length === 0) return { version: 0, found: 'alembic_version is empty (base)' };
  if (rows.length > 1) return { problem: `alembic_version holds ${rows.length} heads (${rows.map((r) => String(r.version_num)).join(', ')}): the database is on branches, which have no single version in one numbered line` };
  const revision = String(rows[0]!.version_num);
  const migration = migrations.find((m) => ALEMBIC_REVISION_LINE.exec(m.up?.sql ?? '')?.[1] === revision);
  if (!migration) return { problem: `alembic_version says ${revision}, and no migration in the directory was imported from that revision (no "-- alembic revision: ${revision}" line)` };
  return { version: migration.version, found: `alembic_version ${revision}` };
}
