import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { freshDatabase, query, SERVER_URL } from '../support/pg.js';
import { project } from '../support/project.js';

// PostgreSQL's other ways in: a live database as CURRENT (--from: its schema copied with
// pg_dump --schema-only for the proof, never its rows, never written) and a live database as
// DESIRED (an app's create_all), --check for CI, and the refusal without a server.

describe('dbshift diff on PostgreSQL: live databases', () => {
  it('--from a live database and --to another: planned and proven on a scratch copy, the live databases untouched; --check exits 65', async () => {
    const live = await freshDatabase('live');
    const models = await freshDatabase('models');
    await query(live.url, 'CREATE TABLE tasks (id bigint PRIMARY KEY, title text); INSERT INTO tasks VALUES (1, \'t\');');
    await query(models.url, 'CREATE TABLE tasks (id bigint PRIMARY KEY, title text, done boolean NOT NULL DEFAULT false); CREATE INDEX ix_tasks_title ON tasks (title);');
    const p = project({});
    // --database names the server for the scratch databases; the live ones are only read.
    const dry = p.run('diff', '--dry-run', '--from', live.url, '--to', models.url, '--database', SERVER_URL, '--json');
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const result = json<{ status: string; proven: boolean; changes: Array<{ phase: string; summary: string }>; generated: Array<{ label: string; up: string }> }>(dry);
    expect(result.status).toBe('planned');
    expect(result.proven).toBe(true);
    expect(result.changes).toEqual([
      { phase: 'schema', summary: 'add column tasks.done' },
      { phase: 'concurrently', summary: 'create index ix_tasks_title CONCURRENTLY (writes go on)' },
    ]);
    expect(result.generated.map((g) => g.label)).toEqual(['000001_schema_diff', '000002_schema_diff_indexes']);
    expect(await query(live.url, 'SELECT column_name FROM information_schema.columns WHERE table_name = \'tasks\' ORDER BY 1')).toEqual([{ column_name: 'id' }, { column_name: 'title' }]);
    expect(await query(live.url, 'SELECT * FROM tasks')).toEqual([{ id: '1', title: 't' }]);
    expect(fs.readdirSync(p.migrations)).toEqual([]);

    const check = p.run('diff', '--check', '--from', live.url, '--to', models.url, '--database', SERVER_URL);
    expect(check.code).toBe(65);
    // No scratch database is left behind on the server.
    expect(await query(live.url, "SELECT datname FROM pg_database WHERE datname LIKE 'dbshift_diff_%'")).toEqual([]);
  }, 180_000);

  it('without a server (--dialect postgres): the scratch databases are PostgreSQL embedded in dbshift (PGlite); the plan is proven there', () => {
    const p = project({ '000001_t.up.sql': 'CREATE TABLE t (id bigint PRIMARY KEY);\n' });
    fs.writeFileSync(`${p.dir}/schema.sql`, 'CREATE TABLE t (id bigint PRIMARY KEY, note text);\nCREATE INDEX ix_t_note ON t (note);\n');
    const run = p.run('diff', '--dry-run', '--dialect', 'postgres', '--to', 'schema.sql', '--json');
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = json<{ proven: boolean; dialect: string; generated: Array<{ label: string }> }>(run);
    expect(result).toMatchObject({ proven: true, dialect: 'postgres' });
    expect(result.generated.map((g) => g.label)).toEqual(['000002_schema_diff', '000003_schema_diff_indexes']);
  }, 180_000);
});
