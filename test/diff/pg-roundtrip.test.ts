import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diff, lint, up } from '../../src/index.js';
import { json } from '../support/cli.js';
import { freshDatabase, query } from '../support/pg.js';
import { project } from '../support/project.js';
import { PG_FIXTURES, type PgFixture } from './fixtures.js';
import { pgSchema } from './pg-schema.js';

// Every PostgreSQL fixture's round trip through the real CLI on the test run's real server:
// diff (after refusing what it must not guess) writes the lock-safe migrations, lint finds
// nothing in them but what the fixture names, up brings the database to the desired schema
// with every row kept, diff --check is then in sync, and down brings the schema back. The
// schemas are compared through information_schema and pg_indexes, not diff's catalog queries.

interface DiffJson {
  status: string;
  findings: Array<{ code: string }>;
  files: string[];
  lint: Array<{ rule: string; level?: string }>;
  generated: Array<{ label: string; up: string; transactional: boolean }>;
}

async function roundTrip(fixture: PgFixture): Promise<void> {
  const db = await freshDatabase('diff');
  const desiredDb = await freshDatabase('desired');
  const p = project(fixture.migrations, { DATABASE: db.url });
  fs.writeFileSync(path.join(p.dir, 'desired.sql'), fixture.desired);
  // The setup and the in-sync check through the library (fewer process starts); diff's write, up and down through the CLI.
  const first = await up({ cwd: p.dir, dir: 'migrations', database: db.url, backup: false });
  expect(first.ok, JSON.stringify(first.error)).toBe(true);
  if (fixture.rows) await query(db.url, fixture.rows);
  const before = fs.readdirSync(p.migrations).sort();
  const currentSchema = await pgSchema(db.url);

  if (fixture.refusedWithout) {
    const refused = p.run('diff', '-m', 'change', '--to', 'desired.sql', '--json');
    expect(refused.code, refused.stdout + refused.stderr).toBe(65);
    expect(json<DiffJson>(refused).findings.map((f) => f.code)).toContain(fixture.refusedWithout);
    expect(fs.readdirSync(p.migrations).sort()).toEqual(before);
  }

  const written = p.run('diff', '-m', 'change', '--to', 'desired.sql', ...(fixture.args ?? []), '--json');
  expect(written.code, written.stdout + written.stderr).toBe(0);
  const result = json<DiffJson>(written);
  expect(result.status).toBe('written');
  // diff says what lint will say about its files.
  // Errors only: warnings (an int id, a serial column in the desired schema) never fail the lint.
  expect(result.lint.filter((f) => f.level !== 'warning').map((f) => f.rule).sort()).toEqual([...((fixture as { lintAllows?: string[] }).lintAllows ?? [])].sort());
  expect(result.generated).toHaveLength(fixture.migrationCount);
  if (fixture.noTransaction) expect(result.generated.map((g) => !g.transactional)).toEqual(fixture.noTransaction);
  for (const g of result.generated) expect(g.up.startsWith('-- dbshift:no-transaction')).toBe(!g.transactional);
  const upSql = result.generated.map((g) => g.up).join('\n');
  for (const pattern of fixture.upContains ?? []) expect(upSql).toMatch(pattern);
  for (const pattern of fixture.upLacks ?? []) expect(upSql).not.toMatch(pattern);
  const docs = result.files.filter((f) => f.endsWith('.md')).map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  for (const name of fixture.docNames ?? []) expect(docs).toContain(`\`${name}\``);

  // dbshift lint itself (the library entry: one process start less per fixture on a loaded machine).
  const linted = await lint({ cwd: p.dir, dir: 'migrations', database: db.url });
  const labels = result.generated.map((g) => g.label);
  const own = linted.findings.filter((f) => f.level !== 'warning' && labels.some((l) => f.file.startsWith(l)));
  expect(own.map((f) => f.rule).sort()).toEqual([...(fixture.lintAllows ?? [])].sort());

  const upRun = p.run('up', '--no-backup');
  expect(upRun.code, upRun.stderr).toBe(0);
  await query(desiredDb.url, fixture.desired);
  expect(await pgSchema(db.url)).toEqual(await pgSchema(desiredDb.url));
  for (const [sql, expected] of fixture.afterUp ?? []) expect(await query(db.url, sql), sql).toEqual(expected);
  for (const sql of fixture.refusedAfterUp ?? []) await expect(query(db.url, sql), sql).rejects.toThrow();

  const check = await diff({ cwd: p.dir, dir: 'migrations', database: db.url, to: 'desired.sql', check: true });
  expect(check.inSync, JSON.stringify(check.changes)).toBe(true);

  const downRun = p.run('down', String(result.generated.length), '--no-backup');
  expect(downRun.code, downRun.stderr).toBe(0);
  expect(await pgSchema(db.url)).toEqual(currentSchema);
  for (const [sql, expected] of fixture.afterDown ?? []) expect(await query(db.url, sql), sql).toEqual(expected);
}

describe('dbshift diff on PostgreSQL: every fixture round trip (diff, lint, up, diff --check, down)', () => {
  for (const fixture of PG_FIXTURES) {
    it(`${fixture.name} (${fixture.ported.split(';')[0]})`, () => roundTrip(fixture), 180_000);
  }
});
