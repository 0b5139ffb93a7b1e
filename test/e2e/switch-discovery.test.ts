import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { json } from '../support/cli.js';
import { query } from '../support/fixtures.js';
import { project } from '../support/project.js';

// Issue 19.6 and 20.4: discovery reads names exactly as golang-migrate does
// (^([0-9]+)_(.*)\.(down|up)\.(.*)$, a uint64 version), and a file that looks like a migration
// of any supported tool is run or refused before anything runs: never skipped.

describe('discovery reads names as golang-migrate does', () => {
  it('names with dots and spaces run in order; nothing is skipped', () => {
    const p = project({
      '000001_init.up.sql': 'CREATE TABLE a (id INTEGER);',
      '000002_v1.2_add_b.up.sql': 'CREATE TABLE b (id INTEGER);',
      '000003_add c.up.sql': 'CREATE TABLE c (id INTEGER);',
      '000003_add c.down.sql': 'DROP TABLE c;',
      '000004_d.up.sql': 'CREATE TABLE d (id INTEGER);',
    });
    const up = p.run('up', '--create', '--no-backup', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(json<{ steps: Array<{ version: number; status: string }> }>(up).steps.map((s) => [s.version, s.status])).toEqual([[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'applied']]);
    expect(query(p.db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a','b','c','d') ORDER BY name`)).toHaveLength(4);
  });

  it('1_init.up.sql beside 000001_init.up.sql is refused (65) as golang-migrate refuses it, naming both', () => {
    const p = project({ '1_init.up.sql': 'CREATE TABLE a (id INTEGER);', '000001_init.up.sql': 'CREATE TABLE b (id INTEGER);' });
    const up = p.run('up', '--create', '--no-backup');
    expect(up.code).toBe(65);
    expect(up.stderr).toMatch(/Version 1 has two migration files: 000001_init\.up\.sql and 1_init\.up\.sql/);
    expect(fs.existsSync(p.db)).toBe(false);
  });

  it('a version above 2^53-1 is refused naming the limit; a 14-digit timestamp version runs', () => {
    const p = project({ '20240101120000_init.up.sql': 'CREATE TABLE a (id INTEGER);' });
    const up = p.run('up', '--create', '--no-backup', '--json');
    expect(up.code, up.stderr).toBe(0);
    expect(query(p.db, 'SELECT version FROM schema_migrations')).toEqual([{ version: 20240101120000 }]);
    p.write('18446744073709551615_max.up.sql', 'CREATE TABLE z (id INTEGER);');
    const big = p.run('up', '--no-backup');
    expect(big.code).toBe(65);
    expect(big.stderr).toMatch(/18446744073709551615_max\.up\.sql: version 18446744073709551615 is above 9007199254740991/);
  });

  it('Flyway, Alembic, misnamed and non-SQL golang-migrate files are refused before anything runs, each named; lint lists them all', () => {
    const p = project({
      '000001_init.up.sql': 'CREATE TABLE a (id INTEGER);',
      'V2__add_b.sql': 'CREATE TABLE b (id INTEGER);',
      'U2__add_b.sql': 'DROP TABLE b;',
      '000003_seed.up.json': '{}',
      '000004_x.mjs': 'export function up() {}',
      'seed.sql': 'SELECT 1;',
    });
    const up = p.run('up', '--create', '--no-backup');
    expect(up.code).toBe(65);
    expect(up.stderr).toMatch(/V2__add_b\.sql: a Flyway versioned migration/);
    expect(up.stderr).toMatch(/U2__add_b\.sql: a Flyway undo migration/);
    expect(up.stderr).toMatch(/000003_seed\.up\.json: golang-migrate would read it .* \.sql files only/);
    expect(up.stderr).toMatch(/000004_x\.mjs: a numbered file/);
    expect(up.stderr).toMatch(/Nothing was changed|Next:/);
    expect(fs.existsSync(p.db)).toBe(false);
    const lint = json<{ findings: Array<{ file: string; rule: string }> }>(p.run('lint', '--json'));
    expect(lint.findings.filter((f) => f.rule === 'unrecognized-file').map((f) => f.file)).toEqual(['000003_seed.up.json', '000004_x.mjs', 'seed.sql', 'U2__add_b.sql', 'V2__add_b.sql']);
  });
});
