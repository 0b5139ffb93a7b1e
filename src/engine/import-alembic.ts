import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CannotCreateError, ConfigError, DataError, InputError } from '../errors.js';
import { ensureDirectory, writeFileExclusive } from '../files/create.js';
import { migrationSlug } from './create.js';

// `dbshift import alembic`: an Alembic project's revision chain as numbered SQL migrations,
// translated by Alembic itself in offline mode (what `alembic upgrade A:B --sql` prints), one
// Python process for the whole chain. Alembic's own bookkeeping (alembic_version, BEGIN/COMMIT)
// is left out: dbshift keeps its own. A revision Alembic cannot translate offline (SQLite batch
// operations, code that reads the database) stops the import before any file is written.

/** The first line of every imported up file: `dbshift adopt` maps alembic_version through it. */
export const ALEMBIC_REVISION_LINE = /^-- alembic revision: (\S+)$/m;

export interface AlembicImportOptions {
  /** alembic.ini; Alembic runs in its directory, as a team runs it. */
  config: string;
  /** The new migrations directory (absent or empty). */
  dir: string;
  /** The Python that has Alembic installed. */
  python: string;
}

export interface ImportedRevision {
  revision: string;
  downRevision: string | null;
  message: string;
  version: number;
  files: string[];
}

export interface AlembicImportResult {
  ok: true;
  command: 'import';
  dir: string;
  revisions: ImportedRevision[];
}

interface Translated {
  revision: string;
  down_revision: string | null;
  doc: string;
  up?: string;
  down?: string;
  up_error?: string;
  down_error?: string;
}

// Runs inside the team's Python: Alembic's ScriptDirectory for the chain, command.upgrade and
// command.downgrade with sql=True into a buffer for each step. Writes JSON to argv[2].
const TRANSLATE = String.raw`
import io, json, sys
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
ini, out = sys.argv[1], sys.argv[2]
script = ScriptDirectory.from_config(Config(ini))
heads = script.get_heads()
result = {"heads": list(heads), "revisions": []}
if len(heads) <= 1:
    chain = list(script.walk_revisions("base", "heads"))
    chain.reverse()
    for rev in chain:
        prev = rev.down_revision
        entry = {"revision": rev.revision, "down_revision": prev if isinstance(prev, str) or prev is None else list(prev), "doc": rev.doc or ""}
        for direction, arg in (("up", "%s:%s" % (prev or "base", rev.revision)), ("down", "%s:%s" % (rev.revision, prev or "base"))):
            buffer = io.StringIO()
            try:
                (command.upgrade if direction == "up" else command.downgrade)(Config(ini, output_buffer=buffer), arg, sql=True)
                entry[direction] = buffer.getvalue()
            except BaseException as error:
                entry[direction + "_error"] = "%s: %s" % (type(error).__name__, error)
        result["revisions"].append(entry)
with open(out, "w") as f:
    json.dump(result, f)
`;

/** Alembic's offline output without its bookkeeping: statements end with ";" and a blank line. */
function withoutAlembicBookkeeping(sql: string): { sql: string; leftover?: string } {
  const kept = sql
    .split(/;\s*\n\s*\n/)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk !== '')
    .filter((chunk) => {
      const statement = chunk.replace(/^(--[^\n]*\n)*/, '').trim();
      if (/^(BEGIN( TRANSACTION)?|COMMIT)$/i.test(statement)) return false;
      if (/^(CREATE TABLE|INSERT INTO|UPDATE|DELETE FROM|DROP TABLE)\s+alembic_version\b/i.test(statement)) return false;
      return statement !== '' || /^--/.test(chunk);
    });
  const leftover = kept.find((chunk) => /alembic_version/i.test(chunk));
  return { sql: kept.map((chunk) => (/^--[^\n]*$/.test(chunk) ? chunk : `${chunk};`)).join('\n\n'), ...(leftover ? { leftover } : {}) };
}

function runTranslation(options: AlembicImportOptions): { heads: string[]; revisions: Translated[] } {
  const config = path.resolve(options.config);
  if (!fs.existsSync(config)) {
    throw new InputError('no-alembic-config', `${config} does not exist.`, { hint: 'Pass the project\'s alembic.ini with --config.', dataState: 'Nothing was changed.' });
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-alembic-'));
  try {
    const out = path.join(scratch, 'chain.json');
    const run = spawnSync(options.python, ['-c', TRANSLATE, config, out], { cwd: path.dirname(config), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.error || run.status !== 0 || !fs.existsSync(out)) {
      const why = run.error ? run.error.message : (run.stderr || '').trim().split('\n').slice(-3).join(' | ');
      throw new ConfigError('alembic-unavailable', `Alembic could not read the project (${options.python} -c … ${config}): ${why}`, {
        hint: /No module named .?alembic/.test(why) ? `Install Alembic for ${options.python}, or pass --python with the interpreter the team runs Alembic with.` : 'Run `alembic history` in the project to see what Alembic says, fix that, then import again.',
        dataState: 'Nothing was changed: no file was written.',
      });
    }
    return JSON.parse(fs.readFileSync(out, 'utf8')) as { heads: string[]; revisions: Translated[] };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export function importAlembic(options: AlembicImportOptions): AlembicImportResult {
  const dir = path.resolve(options.dir);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new CannotCreateError('dir-not-empty', `${dir} is not empty: an import writes a new migrations directory.`, {
      hint: 'Pass --dir with a new or empty directory.',
      dataState: 'Nothing was changed.',
    });
  }
  const chain = runTranslation(options);
  if (chain.heads.length > 1) {
    throw new DataError('alembic-branches', `The Alembic project has ${chain.heads.length} heads (${chain.heads.join(', ')}): dbshift's migrations are one numbered line.`, {
      hint: 'Merge the heads in Alembic (`alembic merge heads`), then import again.',
      dataState: 'Nothing was changed: no file was written.',
    });
  }
  const problems: string[] = [];
  const files: Array<{ revision: ImportedRevision; contents: Array<[string, string]> }> = [];
  for (const [index, rev] of chain.revisions.entries()) {
    if (Array.isArray(rev.down_revision)) {
      problems.push(`${rev.revision} merges ${rev.down_revision.join(' and ')}: a merge revision has no place in one numbered line`);
      continue;
    }
    const version = index + 1;
    const label = `${String(version).padStart(6, '0')}_${migrationSlug(rev.doc) || rev.revision}`;
    const header = (direction: string) => `-- ${label}: ${direction}, imported from Alembic revision ${rev.revision}${rev.doc ? ` ("${rev.doc.split('\n')[0]}")` : ''}\n-- alembic revision: ${rev.revision}\n-- alembic down_revision: ${rev.down_revision ?? 'base'}\n\n`;
    const contents: Array<[string, string]> = [];
    for (const direction of ['up', 'down'] as const) {
      const error = rev[`${direction}_error`];
      if (error !== undefined) {
        problems.push(`${rev.revision} (${direction === 'up' ? 'upgrade' : 'downgrade'}) cannot be translated offline: ${error.split('\n')[0]}`);
        continue;
      }
      const cleaned = withoutAlembicBookkeeping(rev[direction] ?? '');
      if (cleaned.leftover) {
        problems.push(`${rev.revision} (${direction}) touches alembic_version itself (${cleaned.leftover.slice(0, 80)}): dbshift keeps its own version`);
        continue;
      }
      contents.push([`${label}.${direction}.sql`, `${header(direction)}${cleaned.sql}\n`]);
    }
    files.push({ revision: { revision: rev.revision, downRevision: rev.down_revision, message: rev.doc, version, files: contents.map(([f]) => path.join(dir, f)) }, contents });
  }
  if (problems.length > 0) {
    const revisions = new Set(problems.map((p) => p.split(' ')[0]));
    throw new DataError('alembic-not-translatable', `Alembic cannot translate ${revisions.size === 1 ? `revision ${[...revisions][0]}` : `${revisions.size} revisions`} to SQL offline, so nothing was imported:\n  ${problems.join('\n  ')}`, {
      hint: 'SQLite batch operations (op.batch_alter_table) need a live database in Alembic; give the batch a copy_from= Table (or write that step in SQL with op.execute), or write it as a dbshift migration by hand, then import again.',
      dataState: 'Nothing was changed: no file was written.',
    });
  }
  if (files.length === 0) throw new InputError('alembic-empty', 'The Alembic project has no revisions to import.', { dataState: 'Nothing was changed.' });
  ensureDirectory(dir);
  for (const { contents } of files) for (const [file, text] of contents) writeFileExclusive(path.join(dir, file), text);
  return { ok: true, command: 'import', dir, revisions: files.map((f) => f.revision) };
}
