import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePgTarget } from '../../src/engine/drivers/postgres/connection.js';
import { PostgresDriver, type PgOptions } from '../../src/engine/drivers/postgres/driver.js';
import { loadPgMigrationDir } from '../../src/engine/drivers/postgres/load.js';

// Each test gets its own database on the run's server (see pg-cluster.ts); they are dropped when
// the file's tests are done, so a server of your own (DBSHIFT_TEST_PG_URL) is left as it was.

export const SERVER_URL = inject('pgUrl');

const made: string[] = [];

export function urlFor(database: string, params = ''): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return `${url.toString()}${params ? (url.search ? '&' : '?') + params : ''}`;
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database; returns its URL (with the password in it, as a user would pass it). */
export async function freshDatabase(prefix = 't'): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${crypto.randomBytes(5).toString('hex')}`;
  await withClient(SERVER_URL, (c) => c.query(`CREATE DATABASE ${name}`));
  made.push(name);
  return { name, url: urlFor(name) };
}

export async function query<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return withClient(url, async (c) => (await c.query<T>(sql, params)).rows);
}

afterAll(async () => {
  for (const name of made.splice(0)) {
    await withClient(SERVER_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
});


export const PG_FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../pg/fixtures');

/** Open the driver on a URL, closed after the file's tests. */
const opened: PostgresDriver[] = [];
export async function openDriver(url: string, options: PgOptions = {}): Promise<PostgresDriver> {
  const driver = await PostgresDriver.open(resolvePgTarget(url, {}), { lockTimeoutMs: 1000, lockRetries: 1, retryDelayMs: 50, ...options });
  opened.push(driver);
  return driver;
}

export async function migrationsFor(driver: PostgresDriver, dir: string) {
  return loadPgMigrationDir(dir, driver.serverVersionNum);
}

/** Write a migrations directory from { file: content }. */
export function writeMigrations(dir: string, files: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

afterAll(async () => {
  for (const driver of opened.splice(0)) await driver.close();
});
