import { execFileSync } from 'node:child_process';

/**
 * The operator guide's stamp, `date +%Y%m%d_%H%M%S`, for a moment: computed by date(1) itself, so
 * the tests that predict backup names do not share dbshift's own code for them.
 */
export function dateStamp(moment: Date): string {
  return execFileSync('date', ['-d', `@${Math.floor(moment.getTime() / 1000)}`, '+%Y%m%d_%H%M%S'], { encoding: 'utf8' }).trim();
}
