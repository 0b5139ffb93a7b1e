import { assertAllPassed, verifyMigrated } from '../verification.js';
import type { Step } from '../run.js';

const NOT_PUBLISHED = 'Nothing was published; the production database was not touched.';

/** Prove the work file against the pristine backup before it can go live. */
export const verifyStep: Step = {
  name: 'verify',
  async run(ctx) {
    const db = ctx.workDb!;
    db.prepare('ATTACH DATABASE ? AS baseline').run(ctx.backup!.path);
    db.pragma('baseline.cache_size = -2000');
    // Belt and braces: nothing in verification may write, least of all the backup.
    db.pragma('query_only = ON');
    try {
      const result = await verifyMigrated(db, ctx.unit, {
        before: ctx.inspection!,
        baseline: 'baseline',
        foreignKeysBefore: ctx.foreignKeysBefore,
        onRows: async (done, total) => {
          ctx.emit({ step: 'verify', phase: 'progress', done, total, unit: 'rows' });
          ctx.checkpoint('verify-rows');
        },
      });
      ctx.checks = result.checks;
      ctx.countsAfter = result.countsAfter;
      ctx.summary = result.summary;
      assertAllPassed(result.checks, NOT_PUBLISHED);
      return { status: 'ok', detail: `${result.checks.length} checks passed` };
    } finally {
      db.pragma('query_only = OFF');
      db.exec('DETACH DATABASE baseline');
    }
  },
};
