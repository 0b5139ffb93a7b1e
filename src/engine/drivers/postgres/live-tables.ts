import type pg from 'pg';

// What the database already has, for the tables the pending migrations name: where `up`'s lint
// starts (lint.ts), instead of re-reading every applied migration's file to rebuild it. One
// round trip, over those tables only.

export interface LiveTable {
  table: string;
  /** Columns declared NOT NULL (primary keys included). */
  notNull: string[];
  /** Each index's columns in order ('' for an expression). */
  indexes: string[][];
  /** CHECK (column IS NOT NULL) constraints: validated, or still NOT VALID. */
  notNullChecks: Array<{ name: string; column: string; valid: boolean }>;
}

const LIVE_TABLES = `
SELECT c.relname AS "table",
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull ORDER BY a.attnum) AS "notNull",
       (SELECT pg_catalog.json_agg(ARRAY(
                SELECT coalesce(a.attname::text, '') FROM pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                 WHERE k.n <= i.indnkeyatts ORDER BY k.n))
          FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid) AS indexes,
       ARRAY(SELECT pg_catalog.json_build_object('name', con.conname, 'valid', con.convalidated, 'def', pg_catalog.pg_get_constraintdef(con.oid))::text
              FROM pg_catalog.pg_constraint con WHERE con.conrelid = c.oid AND con.contype = 'c') AS checks
  FROM pg_catalog.pg_class c
 WHERE c.oid IN (SELECT pg_catalog.to_regclass(pg_catalog.quote_ident(name)) FROM pg_catalog.unnest($1::text[]) AS name)
   AND c.relkind IN ('r', 'p')`;

/** CHECK ((column IS NOT NULL)), as pg_get_constraintdef writes it. */
const NOT_NULL_CHECK = /^CHECK \(\((?:"((?:[^"]|"")+)"|([^\s"()]+)) IS NOT NULL\)\)/;

export async function readLiveTables(client: pg.Client, names: readonly string[]): Promise<LiveTable[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<{ table: string; notNull: string[]; indexes: string[][] | null; checks: string[] }>(LIVE_TABLES, [[...new Set(names)]]);
  return rows.map((row) => ({
    table: row.table,
    notNull: row.notNull,
    indexes: row.indexes ?? [],
    notNullChecks: row.checks.flatMap((text) => {
      const check = JSON.parse(text) as { name: string; valid: boolean; def: string };
      const match = NOT_NULL_CHECK.exec(check.def);
      return match ? [{ name: check.name, column: match[1]?.replace(/""/g, '"') ?? match[2]!, valid: check.valid }] : [];
    }),
  }));
}
