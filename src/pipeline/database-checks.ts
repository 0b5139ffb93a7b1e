import { consistencyProblems } from '../engine/plan.js';
import { readHistory, readVersion } from '../engine/state.js';
import type { MigrationSet } from '../engine/types.js';
import type { Check } from '../results.js';
import { foreignKeyViolations, integrityCheck } from '../sqlite/checks.js';
import { countRows, listTables } from '../sqlite/introspect.js';
import type { Db } from '../sqlite/open.js';

/**
 * What `verify` can prove about any SQLite database, HealthSum or not: integrity_check,
 * foreign_key_check, the version table (golang-migrate's schema_migrations: present, clean),
 * and, given the migrations, that every applied migration's files still match what was applied.
 */
export function databaseChecks(db: Db, migrations?: MigrationSet): { checks: Check[]; counts: Record<string, number> } {
  const checks: Check[] = [];
  const integrity = integrityCheck(db);
  checks.push({ name: 'integrity_check', ok: integrity.length === 0, detail: integrity.length === 0 ? 'ok' : integrity.slice(0, 5).join('; ') });
  const violations = foreignKeyViolations(db);
  checks.push({
    name: 'foreign_key_check',
    ok: violations.length === 0,
    detail: violations.length === 0 ? 'no violations' : `${violations.length} foreign-key violations`,
    ...(violations.length > 0 ? { ids: violations.slice(0, 20).map((v) => `${v.table}#${v.rowid}`) } : {}),
  });
  const state = readVersion(db);
  const history = readHistory(db);
  const managed = state.version > 0 || state.dirty || history.length > 0;
  checks.push({
    name: 'schema_migrations',
    ok: !state.dirty,
    detail: !managed ? 'no migrations recorded' : state.dirty ? `DIRTY at version ${state.version}: a no-transaction migration failed half-way` : `version ${state.version}, clean`,
  });
  if (migrations) {
    const problems = consistencyProblems(migrations.migrations, state, history);
    checks.push({
      name: 'applied migrations unchanged',
      ok: problems.length === 0,
      detail: problems.length === 0 ? `checksums match ${migrations.source}` : problems.map((p) => p.message).join('; '),
    });
  }
  const counts: Record<string, number> = {};
  for (const table of listTables(db)) counts[table.name] = countRows(db, table.name);
  return { checks, counts };
}
