import type pg from 'pg';
import type { HistoryEntry } from '../../types.js';
import { quoteIdent } from './statements.js';

// One history per version table. Services that keep their own version tables in one schema
// (golang-migrate's x-migrations-table) share the dbshift_history beside them, so every row
// names its version table and each reads only its own. Rows written before that column
// existed name none: they belong to the schema's version table when it has exactly one
// (golang-migrate's shape: version and dirty), and otherwise to none, since which service
// wrote them can no longer be told; they stay in the table, unread by the checks.

export const HISTORY_TABLE = 'dbshift_history';
const KEY = 'version_table';

type Client = Pick<pg.Client, 'query'>;

function historyTable(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(HISTORY_TABLE)}`;
}

async function historyColumns(client: Client, schema: string): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [schema, HISTORY_TABLE]);
  return new Set(rows.map((r) => r.name));
}

/** The version table the rows without a key belong to: the schema's only table shaped like golang-migrate's, if there is exactly one. */
async function ownerOfUnkeyedRows(client: Client, schema: string): Promise<string | undefined> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.columns WHERE table_schema = $1 AND column_name IN ('version', 'dirty') AND table_name <> $2
      GROUP BY table_name HAVING count(*) = 2`,
    [schema, HISTORY_TABLE],
  );
  return rows.length === 1 ? rows[0]!.name : undefined;
}

/** Create the history (inside the caller's transaction), or give an older one its key column and its rows their owner. */
export async function ensureHistory(client: Client, schema: string): Promise<void> {
  const columns = await historyColumns(client, schema);
  if (columns.size === 0) {
    await client.query(`CREATE TABLE IF NOT EXISTS ${historyTable(schema)} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ${KEY} text,
  version bigint NOT NULL,
  name text NOT NULL,
  direction text NOT NULL CHECK (direction IN ('up', 'down', 'force')),
  checksum text,
  applied_at timestamptz NOT NULL,
  duration_ms integer NOT NULL
)`);
    return;
  }
  if (columns.has(KEY)) return;
  // A nullable column without a default: a catalog change, no rewrite of the table.
  await client.query(`ALTER TABLE ${historyTable(schema)} ADD COLUMN IF NOT EXISTS ${KEY} text`);
  const owner = await ownerOfUnkeyedRows(client, schema);
  if (owner !== undefined) await client.query(`UPDATE ${historyTable(schema)} SET ${KEY} = $1 WHERE ${KEY} IS NULL`, [owner]);
}

/** The history of one version table (its name, in the history's schema), oldest first. */
export async function readHistory(client: Client, schema: string, versionTable: string): Promise<HistoryEntry[]> {
  const columns = await historyColumns(client, schema);
  if (columns.size === 0) return [];
  // Not upgraded yet (only a writer does that, under the lock): read the rows as the upgrade will assign them.
  const keyed = columns.has(KEY);
  if (!keyed && (await ownerOfUnkeyedRows(client, schema)) !== versionTable) return [];
  const { rows } = await client.query<{ version: string; name: string; direction: HistoryEntry['direction']; checksum: string | null; applied_at: Date; duration_ms: number }>(
    `SELECT version, name, direction, checksum, applied_at, duration_ms FROM ${historyTable(schema)}${keyed ? ` WHERE ${KEY} = $1` : ''} ORDER BY id`,
    keyed ? [versionTable] : [],
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name, direction: r.direction, checksum: r.checksum, appliedAt: r.applied_at.toISOString(), durationMs: r.duration_ms }));
}

export async function appendHistory(client: Client, schema: string, versionTable: string, entry: HistoryEntry): Promise<void> {
  await client.query(`INSERT INTO ${historyTable(schema)} (${KEY}, version, name, direction, checksum, applied_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
    versionTable,
    entry.version,
    entry.name,
    entry.direction,
    entry.checksum,
    entry.appliedAt,
    Math.round(entry.durationMs),
  ]);
}

/** appendHistory's INSERT with its values as literals (`literal`: the client's escapeLiteral), to share a round trip with other statements. */
export function appendHistorySql(schema: string, versionTable: string, entry: HistoryEntry, literal: (text: string) => string): string {
  const text = (value: string | null) => (value === null ? 'NULL' : literal(value));
  const values = [text(versionTable), String(Math.trunc(entry.version)), text(entry.name), text(entry.direction), text(entry.checksum), `${literal(entry.appliedAt)}::timestamptz`, String(Math.round(entry.durationMs))];
  return `INSERT INTO ${historyTable(schema)} (${KEY}, version, name, direction, checksum, applied_at, duration_ms) VALUES (${values.join(', ')})`;
}
