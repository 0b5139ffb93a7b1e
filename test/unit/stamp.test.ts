import { describe, expect, it } from 'vitest';
import { stamp } from '../../src/files/names.js';
import { dateStamp } from '../support/stamp.js';

// Backup names carry the operator guide's stamp, `date +%Y%m%d_%H%M%S` in local time.
describe('stamp', () => {
  it('is what date(1) prints for the same second, at the edges of days, months and years', () => {
    const moments = [0, 951782399, 951782400, 1_700_000_000, 1_767_225_599, 1_767_225_600, 4_102_444_799].map((s) => new Date(s * 1000 + 999));
    for (const moment of moments) expect(stamp(moment)).toBe(dateStamp(moment));
  });
});
