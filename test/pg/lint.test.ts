import { describe, expect, it } from 'vitest';
import { resolvePgTarget } from '../../src/engine/drivers/postgres/connection.js';
import { lintPgRules, lintPostgres, replayOnScratch } from '../../src/engine/drivers/postgres/lint.js';
import { loadPgMigrationDir } from '../../src/engine/drivers/postgres/load.js';
import { lint as lintApi, up } from '../../src/index.js';
import { freshDatabase, query, SERVER_URL, writeMigrations } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

// Each rule on a migrations directory written to break it (file, line and fix named), and
// quiet on the same change written the safe way. The base migration creates the tables, so the
// lock-hazard rules see them as tables "an earlier migration created".

const BASE = {
  '000001_base.up.sql': [
    'CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, name text, created_at timestamptz NOT NULL DEFAULT now());',
    'CREATE TABLE teams (id bigint PRIMARY KEY, name text NOT NULL);',
    'CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE, body text);',
    'CREATE INDEX ix_posts_user_id ON posts (user_id);',
  ].join('\n'),
  '000001_base.down.sql': 'DROP TABLE posts;\nDROP TABLE teams;\nDROP TABLE users;',
};

/** A document that says what the migration does and loses (the doc-* rules are the SQLite lint's, shared). */
const DOC = '# Overview\nThe change.\n\n## Data-loss risk\nNone.\n';

async function lint(change: string, doc?: string) {
  const files: Record<string, string> = { ...BASE, '000001_base.md': DOC, '000002_change.up.sql': `-- the change\n${change}\n`, '000002_change.down.sql': '', '000002_change.md': doc ?? DOC };
  const dir = writeMigrations(tempDir(), files);
  const set = await loadPgMigrationDir(dir, 150000);
  return lintPgRules(set);
}

const rules = async (change: string, doc?: string) => (await lint(change, doc)).map((f) => `${f.file}:${f.line} ${f.rule}`);

const CASES: Array<[string, string, string, string?]> = [
  // [rule, bad, fixed, document for both]
  ['foreign-key-without-on-delete', 'CREATE TABLE memberships (user_id bigint REFERENCES users (id), team_id bigint REFERENCES teams (id) ON DELETE CASCADE, PRIMARY KEY (user_id, team_id));', 'CREATE TABLE memberships (user_id bigint REFERENCES users (id) ON DELETE CASCADE, team_id bigint REFERENCES teams (id) ON DELETE CASCADE, PRIMARY KEY (user_id, team_id));\nCREATE INDEX ix_memberships_team_id ON memberships (team_id);'],
  ['foreign-key-without-index', 'CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE);', 'CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE);\nCREATE INDEX ix_comments_post_id ON comments (post_id);'],
  ['timestamp-without-time-zone', 'CREATE TABLE events (id bigint PRIMARY KEY, at timestamp NOT NULL);', 'CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL);'],
  ['data-loss-undocumented', 'ALTER TABLE users DROP COLUMN name;', 'ALTER TABLE users DROP COLUMN name;', undefined],
  ['create-index-not-concurrently', 'CREATE INDEX ix_users_email ON users (email);', 'CREATE INDEX CONCURRENTLY ix_users_email ON users (email);'],
  ['add-column-volatile-default', 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();', 'ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;\nALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now();'],
  ['alter-column-type', 'ALTER TABLE posts ALTER COLUMN body TYPE varchar(200);', 'ALTER TABLE posts ADD COLUMN body_short text;'],
  ['set-not-null-without-check', 'ALTER TABLE users ALTER COLUMN name SET NOT NULL;', 'ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;\nALTER TABLE users ALTER COLUMN name SET NOT NULL;'],
  ['constraint-without-not-valid', 'ALTER TABLE posts ADD CONSTRAINT posts_body_short CHECK (length(body) < 10000);', 'ALTER TABLE posts ADD CONSTRAINT posts_body_short CHECK (length(body) < 10000) NOT VALID;'],
  ['unique-without-using-index', 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);', 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX ux_users_email;'],
  ['rename-in-use', 'ALTER TABLE users RENAME COLUMN name TO full_name;', 'ALTER TABLE users ADD COLUMN full_name text;'],
  ['concurrently-in-transaction', 'BEGIN;\nCREATE INDEX CONCURRENTLY ix_users_email ON users (email);\nCOMMIT;', 'CREATE INDEX CONCURRENTLY ix_users_email ON users (email);'],
];

describe('PostgreSQL lint rules', () => {
  it('the base migration itself is clean', async () => {
    expect(await rules('SELECT 1;')).toEqual([]);
  });

  it.each(CASES)('%s fires on the bad file, with line and fix, and is quiet on the fixed one', async (rule, bad, fixed, doc) => {
    const findings = await lint(bad, doc);
    const hit = findings.find((f) => f.rule === rule);
    expect(hit, JSON.stringify(findings)).toBeDefined();
    expect(hit!.file).toBe('000002_change.up.sql');
    expect(hit!.line).toBeGreaterThanOrEqual(2);
    expect(hit!.fix.length).toBeGreaterThan(10);
    const docForFixed = rule === 'data-loss-undocumented' ? '# Overview\n\n## Datenverlust-Risiko\nusers.name wird gelöscht (Backup vorher).\n' : doc;
    expect(await rules(fixed, docForFixed)).toEqual([]);
  });

  it('names the line of the offending constraint inside a multi-line statement', async () => {
    const findings = await rules('CREATE TABLE likes (\n  id bigint PRIMARY KEY,\n  post_id bigint NOT NULL REFERENCES posts (id)\n);\nCREATE INDEX ix_likes_post_id ON likes (post_id);');
    expect(findings).toEqual(['000002_change.up.sql:4 foreign-key-without-on-delete']);
  });
});

describe('replay on a scratch database', () => {
  it('finds the statements PostgreSQL rejects on the schema the chain builds, and leaves no database behind', async () => {
    const dir = writeMigrations(tempDir(), {
      ...BASE,
      '000002_bad.up.sql': '-- a typo in a column name\nALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX CONCURRENTLY ix_users_nick ON users (nick_name);\n',
      '000002_bad.down.sql': 'ALTER TABLE users DROP COLUMN nickname;',
      '000003_ok.up.sql': 'ALTER TABLE teams ADD COLUMN slug text;',
      '000003_ok.down.sql': 'ALTER TABLE teams DROP COLUMN slug;',
    });
    const before = await query<{ n: number }>(SERVER_URL, `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'dbshift_lint_%'`);
    const findings = await replayOnScratch(await loadPgMigrationDir(dir, 150000), resolvePgTarget(SERVER_URL, {}));
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual(['000002_bad.up.sql:3 sql-error']);
    expect(findings[0]!.message).toMatch(/column "nick_name" does not exist/);
    expect(await query(SERVER_URL, `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE 'dbshift_lint_%'`)).toEqual(before);
  });
});

describe('no false alarms', () => {
  it('SET NOT NULL on a column that is already NOT NULL (a no-op) is not a finding; on a nullable one it is', async () => {
    expect(await rules('ALTER TABLE users ALTER COLUMN email SET NOT NULL;')).toEqual([]);
    expect(await rules('ALTER TABLE posts ALTER COLUMN id SET NOT NULL;')).toEqual([]);
    expect(await rules('ALTER TABLE users ALTER COLUMN name SET NOT NULL;')).toEqual(['000002_change.up.sql:2 set-not-null-without-check']);
  });

  it('the fix for a missing foreign-key index says a plain CREATE INDEX on a table this file creates, CONCURRENTLY on an existing one', async () => {
    const created = await lint('CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE);');
    expect(created.find((f) => f.rule === 'foreign-key-without-index')?.fix).toBe('CREATE INDEX ix_comments_post_id ON comments (post_id);');
    const existing = await lint('ALTER TABLE posts ADD COLUMN team_id bigint;\nALTER TABLE posts ADD CONSTRAINT posts_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE SET NULL NOT VALID;');
    expect(existing.find((f) => f.rule === 'foreign-key-without-index')?.fix).toBe('CREATE INDEX CONCURRENTLY ix_posts_team_id ON posts (team_id);');
  });
});

describe('rules as a team configures them (PostgreSQL)', () => {
  const judged = async (change: string, settings?: object) => {
    const files: Record<string, string> = { ...BASE, '000001_base.md': DOC, '000002_change.up.sql': change, '000002_change.down.sql': '', '000002_change.md': DOC };
    if (settings) files['dbshift.lint.json'] = JSON.stringify(settings);
    const result = await lintPostgres(await loadPgMigrationDir(writeMigrations(tempDir(), files), 170000));
    return { found: result.findings.map((f) => `${f.file}:${f.line} ${f.rule}${f.level ? ` ${f.level}` : ''}`), suppressed: result.suppressed };
  };
  const change = 'ALTER TABLE users ADD COLUMN nickname varchar(40);\nALTER TABLE users RENAME COLUMN name TO full_name;\n';

  it('dbshift.lint.json enables an opt-in rule, turns a rule off and makes one a warning', async () => {
    expect((await judged(change)).found).toEqual(['000002_change.up.sql:1 varchar-length warning', '000002_change.up.sql:2 rename-in-use']);
    expect((await judged(change, { rules: { 'lock-timeout-missing': 'error', 'rename-in-use': 'warning', 'varchar-length': 'off' } })).found).toEqual([
      '000002_change.up.sql:1 lock-timeout-missing',
      '000002_change.up.sql:2 rename-in-use warning',
    ]);
    // lock_timeout set first: the opt-in rule is satisfied.
    expect((await judged(`SET lock_timeout = '2s';\n${change}`, { rules: { 'lock-timeout-missing': 'error' } })).found).toEqual(['000002_change.up.sql:2 varchar-length warning', '000002_change.up.sql:3 rename-in-use']);
    await expect(judged(change, { rules: { 'no-such-rule': 'off' } })).rejects.toThrow(/no-such-rule/);
  });

  it('-- dbshift:ignore with a reason silences its rules in that file; without one, or with an unknown rule, it is itself a finding', async () => {
    const ignored = await judged(`-- dbshift:ignore rename-in-use, varchar-length the app reads both names since release 41\n${change}`);
    expect(ignored.found).toEqual([]);
    expect(ignored.suppressed).toEqual([{ file: '000002_change.up.sql', line: 1, rules: ['rename-in-use', 'varchar-length'], reason: 'the app reads both names since release 41', silenced: 2 }]);
    expect((await judged(`-- dbshift:ignore rename-in-use\n${change}`)).found).toEqual(['000002_change.up.sql:1 ignore-without-reason', '000002_change.up.sql:2 varchar-length warning', '000002_change.up.sql:3 rename-in-use']);
    expect((await judged(`-- dbshift:ignore rename-in-uses a typo\n${change}`)).found).toContain('000002_change.up.sql:1 ignore-unknown-rule');
  });
});

describe('the replay stays in its scratch database', () => {
  it('never runs DROP DATABASE (or any statement that reaches the cluster) from a migration', async () => {
    const victim = `lint_victim_${Date.now()}`;
    await query(SERVER_URL, `CREATE DATABASE ${victim}`);
    try {
      const dir = writeMigrations(tempDir(), { ...BASE, '000002_drop.up.sql': `DROP DATABASE ${victim};\n`, '000002_drop.down.sql': '' });
      const findings = await replayOnScratch(await loadPgMigrationDir(dir, 150000), resolvePgTarget(SERVER_URL, {}));
      expect(findings).toEqual([]);
      expect(await query(SERVER_URL, `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${victim}'`)).toEqual([{ n: 1 }]);
    } finally {
      await query(SERVER_URL, `DROP DATABASE IF EXISTS ${victim}`);
    }
  });
});

describe('replay only what needs a schema', () => {
  const server = () => resolvePgTarget(SERVER_URL, {});
  const scratchCount = async () => (await query<{ n: number }>(SERVER_URL, `SELECT count(*)::int AS n FROM pg_stat_database WHERE datname LIKE 'dbshift_lint_%'`))[0]!.n;

  it('plain DDL on names the chain made is vouched for by the model: no scratch database, no replay', async () => {
    const dir = writeMigrations(tempDir(), { ...BASE, '000002_more.up.sql': 'ALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX CONCURRENTLY ix_users_nickname ON users (nickname);\n', '000002_more.down.sql': '' });
    const result = await lintPostgres(await loadPgMigrationDir(dir, 150000), { server: server() });
    expect(result.replay).toBe('not-needed');
  });

  it('a statement the model cannot vouch for (an unknown column) is replayed, with the chain before it, and PostgreSQL names the error', async () => {
    const dir = writeMigrations(tempDir(), {
      ...BASE,
      '000002_bad.up.sql': '-- a typo in a column name\nALTER TABLE users ADD COLUMN nickname text;\nCREATE INDEX ix_users_nick ON users (nick_name);\n',
      '000002_bad.down.sql': '',
      '000003_check.up.sql': 'ALTER TABLE teams ADD CONSTRAINT teams_name_short CHECK (length(nme) < 100) NOT VALID;\n',
      '000003_check.down.sql': '',
    });
    const before = await scratchCount();
    const result = await lintPostgres(await loadPgMigrationDir(dir, 150000), { server: server() });
    expect(result.replay).toBe('done');
    expect(result.findings.filter((f) => f.rule === 'sql-error').map((f) => `${f.file}:${f.line} ${f.message.includes('does not exist')}`)).toEqual(['000002_bad.up.sql:3 true', '000003_check.up.sql:1 true']);
    expect(await scratchCount()).toBe(before);
  });

  it('a batch that fails is narrowed down to each migration PostgreSQL rejects; the others, before and after, replay as they would run', async () => {
    const files: Record<string, string> = { ...BASE };
    for (let i = 2; i <= 9; i++) {
      const v = String(i).padStart(6, '0');
      // Each needs the replay (a regular expression is PostgreSQL's to judge); 4 names a column that does not exist, 7 a table 4 never made.
      const column = i === 4 ? 'nme' : 'name';
      files[`${v}_t${i}.up.sql`] = i === 7 ? `-- uses t4\nCREATE INDEX ix_t4_name ON t4 (name);\n` : `CREATE TABLE t${i} (id bigint PRIMARY KEY, name text);\nALTER TABLE t${i} ADD CONSTRAINT t${i}_name CHECK (${column} ~ '^[a-z]+$');\n`;
      files[`${v}_t${i}.down.sql`] = '';
    }
    const result = await lintPostgres(await loadPgMigrationDir(writeMigrations(tempDir(), files), 150000), { server: server() });
    expect(result.findings.filter((f) => f.rule === 'sql-error').map((f) => `${f.file}:${f.line}`)).toEqual(['000004_t4.up.sql:2', '000007_t7.up.sql:2']);
  });
});

describe('lint --pending on PostgreSQL', () => {
  it('judges only the migrations the database has not applied; the applied ones still build the schema', async () => {
    const dir = writeMigrations(tempDir(), {
      ...BASE,
      '000002_old.up.sql': 'ALTER TABLE users ALTER COLUMN name TYPE varchar(200);\n',
      '000002_old.down.sql': '',
      '000003_new.up.sql': 'CREATE INDEX ix_users_name ON users (name);\n',
      '000003_new.down.sql': '',
    });
    const db = await freshDatabase();
    expect((await up({ database: db.url, dir, count: 2, backup: false })).ok).toBe(true);
    const result = await lintApi({ database: db.url, dir, pending: true });
    expect(result.judged).toEqual([3]);
    expect(result.findings.filter((f) => f.rule !== 'doc-missing').map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual(['000003_new.up.sql:1 create-index-not-concurrently']);
    const everything = await lintApi({ database: db.url, dir });
    expect(everything.findings.map((f) => f.rule)).toContain('alter-column-type');
  });
});

describe("up's lint on PostgreSQL", () => {
  it('judges the pending files on the database as it is: a CHECK or an index made by hand counts, as the catalog says', async () => {
    const next = [
      'SET lock_timeout = 5000;',
      'ALTER TABLE posts ALTER COLUMN body SET NOT NULL;',
      'ALTER TABLE posts ADD CONSTRAINT posts_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE NOT VALID;',
      'ALTER TABLE users ADD CONSTRAINT users_team_fk FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE NOT VALID;',
    ].join('\n');
    const dir = writeMigrations(tempDir(), { ...BASE, '000001_base.md': DOC, '000002_next.up.sql': `${next}\n`, '000002_next.down.sql': '', '000002_next.md': DOC });
    const db = await freshDatabase();
    expect((await up({ database: db.url, dir, count: 1, backup: false })).ok).toBe(true);
    // Outside the migrations, as a DBA would: the check SET NOT NULL needs, a column, an index on it on posts but not on users.
    await query(db.url, 'ALTER TABLE posts ADD CONSTRAINT posts_body_nn CHECK (body IS NOT NULL); ALTER TABLE posts ADD COLUMN team_id bigint; CREATE INDEX ix_posts_team ON posts (team_id); ALTER TABLE users ADD COLUMN team_id bigint;');
    const planned = await up({ database: db.url, dir, dryRun: true, backup: false });
    expect(planned.ok).toBe(true);
    expect(planned.warnings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual(['000002_next.up.sql:4 foreign-key-without-index']);
  });
});
