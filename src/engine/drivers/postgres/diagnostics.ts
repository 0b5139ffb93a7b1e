import type pg from 'pg';
import { BusyError } from '../../../errors.js';
import type { PgStatement } from './statements.js';

// What PostgreSQL can tell about a migration that could not finish: the session holding the
// lock it waited for, and the INVALID indexes a failed CREATE INDEX CONCURRENTLY left. Catalog
// reads only, for the driver's error messages; nothing here changes the database.

/** Every table a statement names (RangeVar nodes anywhere in its tree). */
function relationsOf(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) relationsOf(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'RangeVar' && value && typeof value === 'object' && typeof (value as { relname?: unknown }).relname === 'string') {
        found.add((value as { relname: string }).relname);
      }
      relationsOf(value, found);
    }
  }
  return found;
}

interface Blocker {
  pid: number;
  relation: string;
  mode: string;
  state: string | null;
  query_start: Date | null;
  xact_start: Date | null;
  application_name: string;
}

async function blockers(client: pg.Client, relations: string[]): Promise<Blocker[]> {
  const { rows } = await client.query<Blocker>(
    `SELECT l.pid, c.relname AS relation, l.mode, a.state, a.query_start, a.xact_start, a.application_name
       FROM pg_locks l
       JOIN pg_class c ON c.oid = l.relation
       JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.pid <> pg_backend_pid()
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (cardinality($1::text[]) = 0 OR c.relname = ANY($1::text[]))
        AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))
      ORDER BY a.xact_start NULLS LAST`,
    [relations],
  );
  return rows;
}

/** The lock a statement gave up on, and who holds it (pid, mode, since when): what to end or wait for. */
export async function lockTimeoutError(client: pg.Client, current: PgStatement | undefined, limits: { tries: number; lockTimeoutMs: number }, error: unknown, dataState: string): Promise<BusyError> {
  const relations = current ? [...relationsOf(current.node)] : [];
  const first = (await blockers(client, relations).catch(() => []))[0];
  const { tries } = limits;
  const what = current ? `line ${current.line} (${current.text.split(/\s+/).slice(0, 4).join(' ')} …)` : 'a statement';
  const who = first
    ? `pid ${first.pid} holds ${first.mode} on ${first.relation} (${first.state ?? 'unknown state'}, its ${first.xact_start ? 'transaction' : 'query'} started ${(first.xact_start ?? first.query_start)?.toISOString() ?? 'at an unknown time'}${first.application_name ? `, ${first.application_name}` : ''})`
    : 'the session that held it has gone since';
  return new BusyError('lock-timeout', `${what} waited for a lock ${tries} times (lock_timeout ${limits.lockTimeoutMs} ms each) and gave up: ${who}.`, {
    hint: first
      ? `Let that session finish, or end it (SELECT pg_terminate_backend(${first.pid})), then run the same command again; a longer lock timeout waits longer per try (--pg-lock-timeout MS; library: postgres.lockTimeoutMs).`
      : 'Run the same command again; a longer lock timeout waits longer per try (--pg-lock-timeout MS; library: postgres.lockTimeoutMs).',
    dataState,
    cause: error,
  });
}

/** Indexes a failed CREATE INDEX CONCURRENTLY leaves behind, INVALID (unused by queries, still written). */
export async function invalidIndexes(client: pg.Client): Promise<Array<{ name: string; table: string; definition: string }>> {
  const { rows } = await client.query<{ name: string; table: string; definition: string }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, t.relname AS table, pg_get_indexdef(c.oid) AS definition
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      ORDER BY 1`,
  );
  return rows;
}
