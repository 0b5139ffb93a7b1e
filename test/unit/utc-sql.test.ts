import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { registerV5Functions, utcSql } from '../../src/plans/health-records-v5/functions.js';
import { normalizeTimestamp } from '../../src/plans/health-records-v5/timestamps.js';

// The SQL fast path for canonical timestamps must agree with normalizeTimestamp on every value.

function canonicalCandidates(): string[] {
  const out: string[] = [];
  let seed = 7;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  for (let i = 0; i < 3000; i++) {
    // Deliberately out of range now and then: month 13, day 31 in 30-day months, 29 Feb, hour 24, minute 60.
    const y = [0, 1, 1600, 1900, 1970, 2000, 2023, 2024, 2100, 9999][next(10)]!;
    out.push(`${pad(y, 4)}-${pad(next(14), 2)}-${pad(next(33), 2)} ${pad(next(26), 2)}:${pad(next(62), 2)}:${pad(next(62), 2)}.${pad(next(1_000_000), 6)}`);
  }
  return out;
}

const edges: unknown[] = [
  null, '', 'garbage', '2024-02-29 12:00:00.000000', '2023-02-29 12:00:00.000000', '0000-01-01 00:00:00.000000',
  '0001-01-01 00:00:00.000000', '9999-12-31 23:59:59.999999', '2024-01-01T12:00:00.000000', '2024-01-01 12:00:00.000000Z',
  '2024-01-01 12:00:00.0000001', '2024-01-01 12:00:00', '2024-01-01', ' 2024-01-01 12:00:00.000000', '2024-01-01 12:00:00.000000 ',
  1_700_000_000, 1_700_000_000_123, 1_700_000_000.5, -1, Buffer.from('2024-01-01 12:00:00.000000'),
];

describe('utcSql (the SQL fast path) agrees with normalizeTimestamp', () => {
  it('on 3,000 canonical-looking strings, valid and invalid, and on every edge case', () => {
    const db = new Database(':memory:');
    registerV5Functions(db);
    db.exec('CREATE TABLE t (v)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const values = [...edges, ...canonicalCandidates()];
    for (const v of values) insert.run(v);
    const rows = db.prepare(`SELECT v, ${utcSql('v')} AS fast FROM t ORDER BY rowid`).all() as Array<{ v: unknown; fast: string | null }>;
    expect(rows).toHaveLength(values.length);
    for (const { v, fast } of rows) expect([v, fast]).toEqual([v, normalizeTimestamp(v)]);
    db.close();
  });
});
