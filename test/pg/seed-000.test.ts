import { describe, expect, it } from 'vitest';
import { runVersions } from '../../src/engine/versions.js';
import { freshDatabase, migrationsFor, openDriver, query, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Seed 000's procedures tables (SERIAL, TIMESTAMP WITH TIME ZONE, JSON, a named UNIQUE
// constraint), its SQL as the up file and its rollback SQL as the down file, on top of the
// app's existing projects and data_tables.

const PROCEDURES_UP = `-- Procedures Tabelle
CREATE TABLE procedures (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    description VARCHAR,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_procedure_name_version UNIQUE (name, version)
);

CREATE INDEX ix_procedures_id ON procedures(id);
CREATE INDEX ix_procedures_name ON procedures(name);

-- Procedure Executions Tabelle
CREATE TABLE procedure_executions (
    id SERIAL PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES procedures(id),
    project_id INTEGER REFERENCES projects(id),
    input_params JSON NOT NULL,
    output_table_id INTEGER REFERENCES data_tables(id),
    status VARCHAR NOT NULL,
    error_message TEXT,
    execution_time FLOAT,
    executed_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX ix_procedure_executions_id ON procedure_executions(id);
`;

const PROCEDURES_DOWN = `DROP TABLE IF EXISTS procedure_executions CASCADE;
DROP TABLE IF EXISTS procedures CASCADE;
`;

describe('seed 000 on PostgreSQL', () => {
  it('the procedures SQL goes up, its rollback SQL takes it down, and up again; existing data untouched', async () => {
    const db = await freshDatabase();
    const dir = writeMigrations(tempDir(), {
      '000001_app.up.sql': 'CREATE TABLE projects (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL);\nCREATE TABLE data_tables (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL);\n',
      '000001_app.down.sql': 'DROP TABLE data_tables;\nDROP TABLE projects;\n',
      '000002_procedures.up.sql': PROCEDURES_UP,
      '000002_procedures.down.sql': PROCEDURES_DOWN,
    });
    const driver = await openDriver(db.url);
    const run = async (target: Parameters<typeof runVersions>[2]) => runVersions(driver, await migrationsFor(driver, dir), target, target.kind, { backupDir: tempDir(), backup: false });

    expect((await run({ kind: 'up', count: 1 })).error).toBeUndefined();
    await query(db.url, `INSERT INTO projects (name) VALUES ('alpha'), ('beta'); INSERT INTO data_tables (name) VALUES ('t1')`);
    const up = await run({ kind: 'up' });
    expect(up.error).toBeUndefined();
    // Only the tables the run changed are counted (docs/safety.md): the two it created.
    expect(up.counts).toEqual({ procedure_executions: { before: null, after: 0 }, procedures: { before: null, after: 0 } });
    await query(db.url, `INSERT INTO procedures (name, version, code) VALUES ('p', 1, 'select 1')`);
    await query(db.url, `INSERT INTO procedure_executions (procedure_id, project_id, input_params, status) VALUES (1, 1, '{"x": 1}', 'done')`);
    await expect(query(db.url, `INSERT INTO procedures (name, version, code) VALUES ('p', 1, 'again')`)).rejects.toThrow(/uq_procedure_name_version/);
    const [col] = await query<{ data_type: string }>(db.url, `SELECT data_type FROM information_schema.columns WHERE table_name = 'procedures' AND column_name = 'created_at'`);
    expect(col!.data_type).toBe('timestamp with time zone');

    const down = await run({ kind: 'down', count: 1 });
    expect(down.error).toBeUndefined();
    expect(down.after).toEqual({ version: 1, dirty: false });
    expect(down.counts.procedures).toEqual({ before: 1, after: null });
    expect(await query(db.url, `SELECT name FROM projects ORDER BY id`)).toEqual([{ name: 'alpha' }, { name: 'beta' }]);

    const again = await run({ kind: 'up' });
    expect(again.error).toBeUndefined();
    expect(again.after).toEqual({ version: 2, dirty: false });
  });
});
