import { describe, expect, it } from 'vitest';
import { freshDatabase, query } from '../support/pg.js';

describe('test server', () => {
  it('is a real PostgreSQL server with a fresh database per test', async () => {
    const db = await freshDatabase();
    const [row] = await query<{ v: number }>(db.url, 'SELECT current_setting($1)::int AS v', ['server_version_num']);
    expect(row!.v).toBeGreaterThanOrEqual(120000);
  });
});
