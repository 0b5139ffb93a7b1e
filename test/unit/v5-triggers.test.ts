import { describe, expect, it } from 'vitest';
import { builtinSet } from '../../src/plans/health-records-v5/migration-set.js';
import type { MigrationContext } from '../../src/engine/types.js';
import { makeSample, openV5 } from './v5-sample.js';

// Issue 9.9 on the versioned engine's path (`dbshift up --set health-records`), where v5 runs in
// place: the backfill UPDATEs every row, so the app's triggers on those tables must not see it.
describe('v5 in place (the built-in set) and the app\'s triggers', () => {
  it('neither fires nor loses them: a RAISE trigger does not stop it, an audit trigger records nothing, both exist as before', async () => {
    const sample = makeSample({ reports: 80 });
    const db = openV5(sample.path);
    db.exec(`CREATE TABLE report_audit (id INTEGER PRIMARY KEY, report_id INTEGER);
      CREATE TRIGGER report_no_update BEFORE UPDATE ON report BEGIN SELECT RAISE(ABORT, 'reports are immutable'); END;
      CREATE TRIGGER "Record audit" AFTER UPDATE ON Health_Record BEGIN INSERT INTO report_audit (report_id) VALUES (-new.id); END;`);
    const before = db.prepare(`SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all();
    const migration = builtinSet('health-records', () => new Date('2026-01-02T03:04:05Z'))!.migrations[0]!;
    db.exec('BEGIN');
    await migration.up!.run({ db } as unknown as MigrationContext);
    db.exec('COMMIT');
    expect((db.prepare('SELECT count(*) AS n FROM report_audit').get() as { n: number }).n).toBe(0);
    expect((db.prepare(`SELECT count(*) AS n FROM report WHERE unique_identifier IS NOT NULL`).get() as { n: number }).n).toBe(80);
    expect(db.prepare(`SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name`).all()).toEqual(before);
    expect(() => db.exec(`UPDATE report SET report_type = 'x' WHERE id = 1`)).toThrow(/reports are immutable/);
    db.close();
  });
});
