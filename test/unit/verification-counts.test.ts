import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/plans/apply.js';
import { healthRecordsV5 } from '../../src/plans/health-records-v5/index.js';
import { verifyV5 } from '../../src/plans/health-records-v5/verify.js';
import { verifyMigrated } from '../../src/pipeline/verification.js';
import { makeSample, openV5 } from './v5-sample.js';

// Verification reads the big tables once: the full comparison also takes the counts the v5
// checks and the summary need. They must equal what the standalone pass over the rows finds,
// and a bad row must still fail its check.
async function migratedPair(): Promise<{ db: ReturnType<typeof openV5>; before: ReturnType<typeof healthRecordsV5.inspect> }> {
  const sample = makeSample({ reports: 400, messy: true, seed: 5 });
  const migrated = `${sample.path}.migrated.db`;
  fs.copyFileSync(sample.path, migrated);
  const db = openV5(migrated);
  const before = healthRecordsV5.inspect(db);
  await applyPlan(db, healthRecordsV5.plan(before, { runDate: new Date('2026-03-04T00:00:00Z') }));
  db.prepare('ATTACH DATABASE ? AS baseline').run(sample.path);
  return { db, before };
}

describe('the v5 counts taken on the comparison pass', () => {
  it('give the same checks and summary as the standalone pass', async () => {
    const { db, before } = await migratedPair();
    const result = await verifyMigrated(db, healthRecordsV5, { before, baseline: 'baseline', foreignKeysBefore: [] });
    const standalone = verifyV5(db);
    expect(result.summary).toEqual(standalone.summary);
    expect(result.checks.filter((c) => standalone.checks.some((s) => s.name === c.name))).toEqual(standalone.checks);
    expect(result.checks.every((c) => c.name === 'foreign_key_check' || c.ok)).toBe(true);
  });

  it('still fail a report whose identifier is not its own, naming it', async () => {
    const { db, before } = await migratedPair();
    const victim = (db.prepare(`SELECT id FROM report WHERE unique_identifier IS NOT NULL ORDER BY id LIMIT 1 OFFSET 7`).get() as { id: number }).id;
    db.prepare(`UPDATE report SET unique_identifier = '1-1-1-20240101-999999', generation_status = 'weird' WHERE id = ?`).run(victim);
    const result = await verifyMigrated(db, healthRecordsV5, { before, baseline: 'baseline', foreignKeysBefore: [] });
    const identifiers = result.checks.find((c) => c.name === 'report identifiers');
    expect(identifiers).toMatchObject({ ok: false, ids: [victim] });
    expect((result.summary as { generationStatus: Record<string, number> }).generationStatus.weird).toBe(1);
  });
});
