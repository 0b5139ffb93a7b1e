import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintPostgres } from '../../src/engine/drivers/postgres/lint.js';
import { PG_RULES, SQUAWK_LEFT_OUT } from '../../src/engine/drivers/postgres/lint-rules.js';
import { loadPgMigrationDir } from '../../src/engine/drivers/postgres/load.js';
import { tempDir } from '../support/tmp.js';

// squawk 2.66's rules, one violating and one correct file each (test/fixtures/lint-squawk, the
// bench's corpus too), run as migration 000002 after a base schema, parsed (no server). Each
// bad file is flagged by a dbshift rule that names that squawk rule, with line and fix, and a
// `-- dbshift:ignore` comment naming the rules silences it; each good file is clean. The
// opt-in rules (off by default) are enabled in the project file for the cases of the squawk rules they cover.

const CORPUS = path.resolve(__dirname, '../fixtures/lint-squawk');
const BASE = fs.readFileSync(path.join(CORPUS, 'base.sql'), 'utf8');
const DOC = '# Overview\nThe change.\n\n## Data-loss risk\nNone.\n';
const CASES = fs.readdirSync(CORPUS).filter((f) => fs.statSync(path.join(CORPUS, f)).isDirectory()).sort();

async function lintCase(sql: string, rule?: string) {
  const dir = tempDir();
  const files: Record<string, string> = { '000001_base.up.sql': BASE, '000001_base.down.sql': '', '000001_base.md': DOC, '000002_case.up.sql': sql, '000002_case.down.sql': '', '000002_case.md': DOC };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  // The opt-in rules (off by default) that cover this squawk rule enabled, as a team that wants them would.
  const enabled = OPT_IN.filter((id) => rule && covering(rule).includes(id));
  if (enabled.length > 0) fs.writeFileSync(path.join(dir, 'dbshift.lint.json'), JSON.stringify({ rules: Object.fromEntries(enabled.map((id) => [id, 'error'])) }));
  return lintPostgres(await loadPgMigrationDir(dir, 170000));
}

const OPT_IN = Object.entries(PG_RULES).filter(([, info]) => (info as { level?: string }).level === 'off').map(([id]) => id);
const covering = (squawkRule: string) => Object.entries(PG_RULES).filter(([, info]) => ((info as { squawk?: readonly string[] }).squawk ?? []).includes(squawkRule)).map(([id]) => id);

describe('the squawk 2.66 corpus', () => {
  it('has a case for every squawk rule, and each is covered by a dbshift rule or left out with a reason', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(37);
    for (const rule of CASES) expect(covering(rule).length > 0 || rule in SQUAWK_LEFT_OUT, rule).toBe(true);
  });

  it('the base schema is clean', async () => {
    expect((await lintCase('SELECT 1;\n')).findings).toEqual([]);
  });

  it.each(CASES.filter((rule) => !(rule in SQUAWK_LEFT_OUT)))('%s: the bad file is flagged (line, fix, ignorable), the good one is clean', async (rule) => {
    const bad = fs.readFileSync(path.join(CORPUS, rule, 'bad.sql'), 'utf8');
    const found = (await lintCase(bad, rule)).findings.filter((f) => f.file === '000002_case.up.sql');
    const hit = found.find((f) => covering(rule).includes(f.rule));
    expect(hit, JSON.stringify(found)).toBeDefined();
    expect(hit!.line).toBeGreaterThanOrEqual(1);
    expect(hit!.fix.length).toBeGreaterThan(10);

    const ignored = await lintCase(`-- dbshift:ignore ${[...new Set(found.map((f) => f.rule))].join(', ')} the table is empty in every environment\n${bad}`, rule);
    expect(ignored.findings).toEqual([]);
    expect(ignored.suppressed[0]).toMatchObject({ file: '000002_case.up.sql', line: 1, reason: 'the table is empty in every environment' });

    const good = fs.readFileSync(path.join(CORPUS, rule, 'good.sql'), 'utf8');
    expect((await lintCase(good, rule)).findings).toEqual([]);
  });
});
