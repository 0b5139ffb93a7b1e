import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forceVersion } from '../../src/engine/force.js';
import { runVersions } from '../../src/engine/versions.js';
import { freshDatabase, migrationsFor, openDriver, PG_FIXTURES, query, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Seed 004's golang-migrate project (UUID with gen_random_uuid(), JSONB, GIN indexes, named
// and unique indexes) through the driver: up, down 1, version, up, then a failing
// no-transaction migration, dirty, force, up.

const SEED = path.join(PG_FIXTURES, 'seed-004');

async function tables(url: string): Promise<string[]> {
  return (await query<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.t);
}

describe('seed 004 on PostgreSQL', () => {
  it('up → down 1 → version → up → failing CONCURRENTLY → dirty → force → up', async () => {
    const db = await freshDatabase();
    const dir = tempDir();
    for (const f of fs.readdirSync(SEED)) fs.copyFileSync(path.join(SEED, f), path.join(dir, f));
    const driver = await openDriver(db.url);
    const options = { backupDir: path.join(dir, 'backups'), backup: false };

    const up = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', options);
    expect(up.error).toBeUndefined();
    expect(up.steps.map((s) => `${s.version}:${s.status}:${s.transactional}`)).toEqual(['1:applied:true', '2:applied:true', '3:applied:true', '4:applied:true', '5:applied:true']);
    expect(up.after).toEqual({ version: 5, dirty: false });
    expect(await tables(db.url)).toEqual(['codelibs', 'coderuns', 'codes', 'dbshift_history', 'projects', 'schema_migrations', 'user_permissions']);
    const gin = await query<{ indexname: string }>(db.url, `SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gin%' ORDER BY 1`);
    expect(gin.map((r) => r.indexname)).toEqual(['idx_coderuns_extra', 'idx_coderuns_params', 'idx_projects_authorizations']);
    expect(await query(db.url, 'SELECT version, dirty FROM schema_migrations')).toEqual([{ version: '5', dirty: false }]);
    // The schema works as the app uses it.
    await query(db.url, `INSERT INTO projects (uuid, name, authorizations) VALUES ('p1', 'one', '[{"email":"a@b.c","role":1}]')`);
    await expect(query(db.url, `INSERT INTO projects (uuid, name) VALUES ('p1', 'dup')`)).rejects.toThrow(/unique/);

    const down = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'down', count: 1 }, 'down', options);
    expect(down.error).toBeUndefined();
    expect(down.after).toEqual({ version: 4, dirty: false });
    expect(down.counts.projects).toEqual({ before: 1, after: null });
    expect(await tables(db.url)).not.toContain('projects');
    expect(await driver.readVersion()).toEqual({ version: 4, dirty: false });

    const again = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', options);
    expect(again.steps.map((s) => s.version)).toEqual([5]);
    expect(again.after).toEqual({ version: 5, dirty: false });

    // A no-transaction migration whose second statement fails: golang-migrate's dirty protocol.
    writeMigrations(dir, {
      '000006_codes_by_name.up.sql': `CREATE INDEX CONCURRENTLY idx_codes_name ON codes (name);\nCREATE INDEX CONCURRENTLY idx_codes_oops ON codes (no_such_column);\n`,
      '000006_codes_by_name.down.sql': `DROP INDEX CONCURRENTLY IF EXISTS idx_codes_oops;\nDROP INDEX CONCURRENTLY IF EXISTS idx_codes_name;\n`,
    });
    const failed = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', options);
    expect(failed.error?.exitCode).toBe(65);
    expect(failed.error?.message).toMatch(/line 2: column "no_such_column" does not exist/);
    expect(failed.error?.dataState).toMatch(/dirty at version 6/);
    expect(failed.steps[0]).toMatchObject({ version: 6, status: 'failed', transactional: false });
    expect(failed.after).toEqual({ version: 6, dirty: true });
    const refused = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', options);
    expect(refused.error?.code).toBe('database-dirty');

    // A human fixes the file and undoes the half (the first index stays: force the version below).
    fs.writeFileSync(path.join(dir, '000006_codes_by_name.up.sql'), `CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_codes_name ON codes (name);\n`);
    const forced = await forceVersion(driver, await migrationsFor(driver, dir), 5);
    expect(forced.error).toBeUndefined();
    expect(forced.after).toEqual({ version: 5, dirty: false });
    const finished = await runVersions(driver, await migrationsFor(driver, dir), { kind: 'up' }, 'up', options);
    expect(finished.error).toBeUndefined();
    expect(finished.after).toEqual({ version: 6, dirty: false });
    const history = await driver.readHistory();
    expect(history.map((h) => `${h.version}${h.direction[0]}`)).toEqual(['1u', '2u', '3u', '4u', '5u', '5d', '5u', '5f', '6u']);
  });
});
