import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diff, lint as lintApi, up } from '../../src/index.js';
import { json } from '../support/cli.js';
import { project } from '../support/project.js';
import { SQLITE_FIXTURES, type DiffFixture } from './fixtures.js';
import { sqliteFromSql, sqliteSchema } from './sqlite-schema.js';

// Every fixture's round trip through the real CLI on real SQLite files: diff writes the
// migration (after refusing what it must not guess), lint finds nothing in it, up brings the
// database to the desired schema with every row kept, diff --check is then in sync, and down
// brings the schema back. The schema is compared with the tests' own introspection.

interface DiffJson {
  ok: boolean;
  status: string;
  findings: Array<{ code: string }>;
  files: string[];
  lint: Array<{ rule: string; level?: string }>;
  generated: Array<{ label: string; up: string }>;
  error?: { exitCode: number };
}

const lintMigrationsOf = (cwd: string) => lintApi({ cwd, dir: 'migrations' });

function rows(db: string, sql: string): unknown[] {
  const conn = new Database(db);
  try {
    const statement = conn.prepare(sql);
    return statement.reader ? statement.all() : [statement.run()];
  } finally {
    conn.close();
  }
}

async function roundTrip(fixture: DiffFixture): Promise<void> {
  const p = project(fixture.migrations);
  fs.writeFileSync(path.join(p.dir, 'desired.sql'), fixture.desired);
  // The setup and the in-sync check through the library (fewer process starts); diff's write, up and down through the CLI.
  expect((await up({ cwd: p.dir, dir: 'migrations', database: p.db, create: true, backup: false })).ok).toBe(true);
  if (fixture.rows) {
    const conn = new Database(p.db);
    conn.exec(fixture.rows);
    conn.close();
  }
  const before = fs.readdirSync(p.migrations).sort();
  const currentSchema = sqliteSchema(p.db);

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
  const upSql = result.generated.map((g) => g.up).join('\n');
  for (const pattern of fixture.upContains ?? []) expect(upSql).toMatch(pattern);
  for (const pattern of fixture.upLacks ?? []) expect(upSql).not.toMatch(pattern);
  const doc = fs.readFileSync(result.files.find((f) => f.endsWith('.md'))!, 'utf8');
  for (const name of fixture.docNames ?? []) expect(doc).toContain(`\`${name}\``);

  const lint = await lintMigrationsOf(p.dir);
  const labels = result.generated.map((g) => g.label);
  expect(lint.findings.filter((f) => f.level !== 'warning' && labels.some((l) => f.file.startsWith(l)))).toEqual([]);

  const upRun = p.run('up', '--no-backup');
  expect(upRun.code, upRun.stderr).toBe(0);
  expect(sqliteSchema(p.db)).toEqual(sqliteSchema(sqliteFromSql(path.join(p.dir, 'desired.db'), fixture.desired)));
  for (const [sql, expected] of fixture.afterUp ?? []) expect(rows(p.db, sql), sql).toEqual(expected);
  for (const sql of fixture.refusedAfterUp ?? []) expect(() => rows(p.db, sql), sql).toThrow();

  const check = await diff({ cwd: p.dir, dir: 'migrations', to: 'desired.sql', check: true });
  expect(check.inSync, JSON.stringify(check.changes)).toBe(true);

  const downRun = p.run('down', String(result.generated.length), '--no-backup');
  expect(downRun.code, downRun.stderr).toBe(0);
  expect(sqliteSchema(p.db)).toEqual(currentSchema);
  for (const [sql, expected] of fixture.afterDown ?? []) expect(rows(p.db, sql), sql).toEqual(expected);
}

describe('dbshift diff on SQLite: every fixture round trip (diff, lint, up, diff --check, down)', () => {
  for (const fixture of SQLITE_FIXTURES) {
    it(`${fixture.name} (${fixture.ported.split(';')[0]})`, () => roundTrip(fixture), 120_000);
  }
});
