import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/plans/apply.js';
import { inspectV5 } from '../../src/plans/health-records-v5/inspect.js';
import { planV5 } from '../../src/plans/health-records-v5/plan.js';
import { verifyV5 } from '../../src/plans/health-records-v5/verify.js';
import type { Db } from '../../src/sqlite/open.js';
import { makeSample, openV5 } from './v5-sample.js';

// verifyV5 reads each table once; these tests make sure the single pass still catches each
// kind of bad row, names its id, and that the summary counts what is there.

async function migrated(reports: number): Promise<Db> {
  const db = openV5(makeSample({ reports }).path);
  await applyPlan(db, planV5(inspectV5(db), { runDate: new Date('2024-06-01T12:00:00Z') }));
  return db;
}

function check(db: Db, name: string) {
  return verifyV5(db).checks.find((c) => c.name === name);
}

describe('verifyV5', () => {
  it('passes a freshly migrated sample, with a summary equal to direct counts', async () => {
    const db = await migrated(300);
    try {
      const { checks, summary } = verifyV5(db);
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      expect(summary?.generationStatus).toEqual({ pending: 0, generating: 0, completed: 300, failed: 0 });
      expect(summary?.processingStatus.completed).toBe(count(`SELECT count(*) AS n FROM health_record`));
      expect(summary?.identifiers.with).toBe(count(`SELECT count(*) AS n FROM report WHERE unique_identifier IS NOT NULL`));
      expect(summary?.identifiers.with! + summary?.identifiers.without!).toBe(300);
      expect(summary?.identifiers.samples).toHaveLength(3);
    } finally {
      db.close();
    }
  });

  it.each([
    ['a NULL identifier', `UPDATE report SET unique_identifier = NULL WHERE id = 7`],
    ['a malformed identifier', `UPDATE report SET unique_identifier = 'abc' WHERE id = 7`],
    ['another report\'s identifier', `UPDATE report SET unique_identifier = substr(unique_identifier, 1, length(unique_identifier) - 1) || '9' WHERE id = 7`],
  ])('fails "report identifiers" on %s and names the row', async (_label, sql) => {
    const db = await migrated(50);
    try {
      db.exec(sql);
      expect(check(db, 'report identifiers')).toMatchObject({ ok: false, ids: [7] });
      expect(check(db, 'statuses set')?.ok).toBe(true);
    } finally {
      db.close();
    }
  });

  it('fails "statuses set" on NULL statuses, and the summary shows them and unexpected values', async () => {
    const db = await migrated(50);
    try {
      db.exec(`UPDATE report SET generation_status = NULL WHERE id IN (3, 4);
               UPDATE health_record SET processing_status = 'archived' WHERE id = 2`);
      const { checks, summary } = verifyV5(db);
      expect(checks.find((c) => c.name === 'statuses set')).toMatchObject({ ok: false, ids: [3, 4] });
      expect(summary?.generationStatus).toMatchObject({ completed: 48, NULL: 2 });
      expect(summary?.processingStatus.archived).toBe(1);
    } finally {
      db.close();
    }
  });

  it('fails "v5 objects exist" when an index is gone', async () => {
    const db = await migrated(20);
    try {
      db.exec(`DROP INDEX ix_task_log_health_record_id`);
      expect(check(db, 'v5 objects exist')?.ok).toBe(false);
    } finally {
      db.close();
    }
  });
});
