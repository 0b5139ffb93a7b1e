// Shared by the v5 unit tests: real sample databases in temp dirs, opened the way the
// pipeline opens its work file.
import Database from 'better-sqlite3';
import path from 'node:path';
import { registerV5Functions } from '../../src/plans/health-records-v5/functions.js';
import { generateSample, type SampleResult } from '../../src/sample/generate.js';
import type { Db } from '../../src/sqlite/open.js';
import { tempDir } from '../support/tmp.js';

export const SECRET = 'test-secret-key-Ω-42';

export function makeSample(options: { reports?: number; messy?: boolean; seed?: number } = {}): SampleResult {
  const out = path.join(tempDir(), 'health_records.db');
  return generateSample({ out, reports: options.reports ?? 200, messy: options.messy ?? false, seed: options.seed ?? 1, secretKey: SECRET });
}

/** A writable connection with foreign keys off (like the app's SQLite) and the v5 SQL functions. */
export function openV5(file: string): Db {
  const db = new Database(file);
  db.pragma('foreign_keys = OFF');
  registerV5Functions(db);
  return db;
}

export function columnsOf(db: Db, table: string): string[] {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).map((r) => r.name);
}
