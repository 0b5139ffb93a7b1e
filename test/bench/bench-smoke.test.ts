import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// The benchmark must not rot: run it tiny, once, and check it produces its table and chart.
// No timing is asserted here; speed goals live in `npm run bench` and docs/performance.md.
describe('npm run bench (smoke)', () => {
  it('measures dbshift and the floor on 10,000 reports and writes the table and the chart', () => {
    const dir = tempDir();
    const out = path.join(dir, 'performance.md');
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/bench.mjs'), '--section', 'v5', '--reports', '10000', '--runs', '1', '--report-kib', '0.5', '--cache', path.join(dir, 'cache'), '--out', out], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    expect(run.status, run.stderr).toBe(0);
    const doc = fs.readFileSync(out, 'utf8');
    expect(doc).toMatch(/\| 10,000 \| \d+ MiB \| [\d.]+ s \| [\d.]+ s/);
    expect(doc).toContain('<!-- bench:start -->');
    // The live-file layout: the old file became the backup; bytes written are reported against the result.
    expect(doc).toContain('backup route taken: old-file');
    expect(doc).toMatch(/\| [\d.]+ \/ [\d.]+ \/ [\d.]+ \(\d+ MiB\) \|/);
    expect(fs.readFileSync(path.join(dir, 'performance-steps.svg'), 'utf8')).toContain('<svg');
  }, 120_000);
});
