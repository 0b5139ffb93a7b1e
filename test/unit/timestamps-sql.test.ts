import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { utc } from '../../src/plans/health-records-v5/build.js';
import { UTC_FUNCTION } from '../../src/plans/health-records-v5/functions.js';
import { normalizeTimestamp } from '../../src/plans/health-records-v5/timestamps.js';

// The build normalises canonical timestamps in SQL and calls normalizeTimestamp for the rest:
// the SQL must give exactly what the function gives, value by value, and spare the call.

function connection(): { db: Database.Database; calls: () => number } {
  const db = new Database(':memory:');
  let calls = 0;
  db.function(UTC_FUNCTION, { deterministic: true }, (value: unknown) => {
    calls++;
    return normalizeTimestamp(value);
  });
  return { db, calls: () => calls };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Every day of some years around the leap rules (1900 is not a leap year, 2000 is), days 29–32 of every month, odd times. */
function candidates(): unknown[] {
  const values: unknown[] = [];
  for (const year of [1, 4, 100, 1899, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 9999]) {
    for (let month = 0; month <= 13; month++) {
      for (const day of [0, 1, 15, 28, 29, 30, 31, 32]) values.push(`${pad(year, 4)}-${pad(month)}-${pad(day)} 12:34:56.789012`);
    }
  }
  for (const time of ['00:00:00.000000', '23:59:59.999999', '24:00:00.000000', '25:00:00.000000', '29:00:00.000000', '12:60:00.000000', '12:00:60.000000', '12:00:00.00000', '12:00:00.0000000']) {
    values.push(`2024-02-29 ${time}`);
  }
  values.push(
    '0000-01-01 00:00:00.000000',
    '0001-01-01 00:00:00.000000',
    '2023-05-06T07:08:09.123456',
    '2023-05-06 07:08:09.123456Z',
    '2023-05-06 07:08:09.123456+02:00',
    ' 2023-05-06 07:08:09.123456',
    '2023-05-06 07:08:09.123456 ',
    '2023-05-06 07:08:09.123456\n',
    '２０２３-05-06 07:08:09.123456',
    '2023-05-06 07:08:09,123456',
    '2023/05/06 07:08:09.123456',
    '',
    'not a date',
    Buffer.from('2023-05-06 07:08:09.123456'),
    1_700_000_000,
    1_700_000_000_123,
    1_700_000_000.5,
    null,
  );
  return values;
}

describe('utc(): normalizeTimestamp in SQL for canonical values', () => {
  it('gives exactly what normalizeTimestamp gives, for every candidate', () => {
    const { db } = connection();
    const statement = db.prepare(`SELECT ${utc('v.x')} AS r FROM (SELECT ? AS x) AS v`);
    const disagreements = candidates()
      .map((value) => ({ value, sql: (statement.get(value) as { r: unknown }).r, js: normalizeTimestamp(value) }))
      .filter((c) => c.sql !== c.js);
    expect(disagreements).toEqual([]);
  });

  it('calls the JavaScript function only for values that are not already canonical', () => {
    const { db, calls } = connection();
    const statement = db.prepare(`SELECT ${utc('v.x')} AS r FROM (SELECT ? AS x) AS v`);
    expect(statement.get('2024-02-29 23:59:59.999999')).toEqual({ r: '2024-02-29 23:59:59.999999' });
    expect(calls()).toBe(0);
    expect(statement.get('2023-02-29 12:00:00.000000')).toEqual({ r: null });
    expect(statement.get('2023-05-06T07:08:09Z')).toEqual({ r: '2023-05-06 07:08:09.000000' });
    expect(calls()).toBe(2);
  });
});
