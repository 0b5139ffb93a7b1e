import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbshift, json } from '../support/cli.js';
import { listDir, query } from '../support/fixtures.js';
import { project, THREE } from '../support/project.js';
import { tempDir } from '../support/tmp.js';

// Issue 20.2: an Alembic team moves to dbshift without rewriting its history. The real Alembic
// (Debian's python3-alembic) migrates a SQLite database and translates its chain offline;
// dbshift imports the chain and adopts the database. Alembic's verbs error at the edges as Alembic's do.

const PYTHON = '/usr/bin/python3';

const ENV_PY = `from alembic import context
from sqlalchemy import engine_from_config, pool
config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
`;

const revision = (id: string, down: string | null, doc: string, up: string, downgrade: string) =>
  `"""${doc}"""\nfrom alembic import op\nimport sqlalchemy as sa\nrevision = "${id}"\ndown_revision = ${down ? `"${down}"` : 'None'}\ndef upgrade():\n    ${up}\ndef downgrade():\n    ${downgrade}\n`;

const CREATE = revision('a1f0c0de0001', null, 'Aufgaben anlegen', 'op.create_table("tasks", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(200)))', 'op.drop_table("tasks")');
const ADD = revision('b2f0c0de0002', 'a1f0c0de0001', 'Spalte done hinzufügen', 'op.add_column("tasks", sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()))', 'op.drop_column("tasks", "done")');
const BATCH = revision('c3f0c0de0003', 'b2f0c0de0002', 'title not null', 'with op.batch_alter_table("tasks") as b:\n        b.alter_column("title", existing_type=sa.String(200), nullable=False)', 'pass');

function alembicProject(revisions: Record<string, string>) {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'alembic', 'versions'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'alembic.ini'), '[alembic]\nscript_location = alembic\nsqlalchemy.url = sqlite:///app.db\n');
  fs.writeFileSync(path.join(dir, 'alembic', 'env.py'), ENV_PY);
  for (const [file, text] of Object.entries(revisions)) fs.writeFileSync(path.join(dir, 'alembic', 'versions', file), text);
  const alembic = (...args: string[]) => spawnSync(PYTHON, ['-m', 'alembic', ...args], { cwd: dir, encoding: 'utf8' });
  const run = (...args: string[]) => dbshift(args, { cwd: dir, env: { BACKUP_DIR: 'backups' } });
  return { dir, db: path.join(dir, 'app.db'), alembic, run };
}

describe('from Alembic to dbshift', () => {
  it('import translates the chain with Alembic offline; adopt maps alembic_version to the version and changes nothing else; up continues', () => {
    const a = alembicProject({ 'a1_create.py': CREATE, 'b2_add.py': ADD });
    expect(a.alembic('upgrade', 'head').status).toBe(0);
    const imported = a.run('import', 'alembic', '--config', 'alembic.ini', '--dir', 'migrations', '--python', PYTHON, '--json');
    expect(imported.code, imported.stderr + imported.stdout).toBe(0);
    expect(json<{ revisions: Array<{ revision: string; version: number }> }>(imported).revisions.map((r) => [r.version, r.revision])).toEqual([[1, 'a1f0c0de0001'], [2, 'b2f0c0de0002']]);
    expect(listDir(path.join(a.dir, 'migrations'))).toEqual(['000001_aufgaben_anlegen.down.sql', '000001_aufgaben_anlegen.up.sql', '000002_spalte_done_hinzufuegen.down.sql', '000002_spalte_done_hinzufuegen.up.sql']);
    const up2 = fs.readFileSync(path.join(a.dir, 'migrations', '000002_spalte_done_hinzufuegen.up.sql'), 'utf8');
    expect(up2).toMatch(/^-- alembic revision: b2f0c0de0002$/m);
    expect(up2).toMatch(/ALTER TABLE tasks ADD COLUMN done/);
    expect(up2).not.toMatch(/alembic_version/);

    const schemaBefore = query(a.db, `SELECT name, sql FROM sqlite_master WHERE name NOT IN ('schema_migrations', 'dbshift_history', 'version_unique') ORDER BY name`);
    const adopted = a.run('adopt', '--dir', 'migrations', '--database', 'app.db', '--json');
    expect(adopted.code, adopted.stdout).toBe(0);
    expect(json(adopted)).toMatchObject({ from: 'alembic', found: 'alembic_version b2f0c0de0002', version: 2, recorded: true });
    expect(query(a.db, `SELECT name, sql FROM sqlite_master WHERE name NOT IN ('schema_migrations', 'dbshift_history', 'version_unique') ORDER BY name`)).toEqual(schemaBefore);
    expect(query(a.db, 'SELECT version_num FROM alembic_version')).toEqual([{ version_num: 'b2f0c0de0002' }]);

    fs.writeFileSync(path.join(a.dir, 'migrations', '000003_notes.up.sql'), 'CREATE TABLE notes (id INTEGER PRIMARY KEY);');
    const up = a.run('up', '--dir', 'migrations', '--database', 'app.db', '--no-backup', '--json');
    expect(up.code, up.stdout).toBe(0);
    expect(json<{ steps: Array<{ version: number }> }>(up).steps.map((s) => s.version)).toEqual([3]);
  });

  it('adopt refuses when alembic_version names a revision the directory does not have (65), creating nothing', () => {
    const a = alembicProject({ 'a1_create.py': CREATE, 'b2_add.py': ADD });
    expect(a.alembic('upgrade', 'head').status).toBe(0);
    expect(a.run('import', 'alembic', '--dir', 'migrations', '--python', PYTHON).code).toBe(0);
    fs.rmSync(path.join(a.dir, 'migrations', '000002_spalte_done_hinzufuegen.up.sql'));
    fs.rmSync(path.join(a.dir, 'migrations', '000002_spalte_done_hinzufuegen.down.sql'));
    const refused = a.run('adopt', '--dir', 'migrations', '--database', 'app.db');
    expect(refused.code).toBe(65);
    expect(refused.stderr + refused.stdout).toMatch(/alembic_version says b2f0c0de0002, and no migration in the directory was imported from that revision/);
    expect(query(a.db, `SELECT name FROM sqlite_master WHERE name IN ('schema_migrations', 'dbshift_history')`)).toEqual([]);
  });

  it('import names a revision Alembic cannot translate offline (SQLite batch) and writes nothing', () => {
    const a = alembicProject({ 'a1_create.py': CREATE, 'b2_add.py': ADD, 'c3_batch.py': BATCH });
    const refused = a.run('import', 'alembic', '--dir', 'migrations', '--python', PYTHON);
    expect(refused.code).toBe(65);
    expect(refused.stdout + refused.stderr).toMatch(/c3f0c0de0003 \(upgrade\) cannot be translated offline: .*batch mode with dialect sqlite requires a live database/);
    expect(fs.existsSync(path.join(a.dir, 'migrations'))).toBe(false);
  });
});

describe('Alembic verbs at the edges', () => {
  it('downgrade -1 at base and upgrade +5 past head fail (64) in Alembic\'s words; nothing changes', () => {
    const p = project(THREE);
    fs.writeFileSync(p.db, '');
    const atBase = p.run('downgrade', '-1');
    expect(atBase.code).toBe(64);
    expect(atBase.stderr + atBase.stdout).toMatch(/Relative revision -1 didn't produce 1 migrations/);
    const pastHead = p.run('upgrade', '+5', '--no-backup');
    expect(pastHead.code).toBe(64);
    expect(pastHead.stderr + pastHead.stdout).toMatch(/Relative revision \+5 didn't produce 5 migrations: the database is at version 0 with 3 migrations above it/);
    expect(p.run('version').stdout).toMatch(/^0/);
    expect(p.run('upgrade', '+3', '--no-backup').code).toBe(0);
  });
});

describe('adopting a Flyway database', () => {
  const history = (rows: string) => `CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50), description VARCHAR(200), type VARCHAR(20), script VARCHAR(1000), checksum INT, success BOOLEAN);
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO flyway_schema_history VALUES ${rows};`;

  it('the newest successful versioned row maps to the version; a dotted version is refused (65), nothing created', () => {
    const p = project(THREE);
    const sqlite = (sql: string) => spawnSync('sqlite3', [p.db, sql], { encoding: 'utf8' });
    sqlite(history(`(1, '1', 'users', 'SQL', 'V1__users.sql', 1, 1), (2, '2', 'add tasks', 'SQL', 'V2__add_tasks.sql', 2, 1)`));
    const adopted = p.run('adopt', '--json');
    expect(adopted.code, adopted.stdout).toBe(0);
    expect(json(adopted)).toMatchObject({ from: 'flyway', version: 2, recorded: true });
    expect(p.run('up', '--no-backup').code).toBe(0);
    expect(p.run('version').stdout).toMatch(/^3 \(notes\)/);

    const q = project(THREE);
    spawnSync('sqlite3', [q.db, history(`(1, '1.1', 'users', 'SQL', 'V1_1__users.sql', 1, 1)`)], { encoding: 'utf8' });
    const refused = q.run('adopt');
    expect(refused.code).toBe(65);
    expect(refused.stderr + refused.stdout).toMatch(/Flyway's version 1\.1 is not a whole number/);
    expect(query(q.db, `SELECT name FROM sqlite_master WHERE name IN ('schema_migrations', 'dbshift_history')`)).toEqual([]);
  });
});
