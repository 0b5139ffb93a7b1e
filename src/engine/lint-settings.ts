import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { findingOf, SHARED_RULES, type LintFinding, type LintLevel, type LintRegistry } from './lint-registry.js';
import type { MigrationSet } from './types.js';

// How a team lives with a lint in CI: a rule silenced for one file, with the reason written
// where the next reader sees it (`-- dbshift:ignore RULE[, RULE] reason`), and one project
// file that turns rules off or changes their level. Applied files may never be edited (their
// checksums), so the project file is also how a finding in history stops failing every run.

/** The project file, looked for in the migrations directory, then in the directory above it (the project's root). */
export const LINT_PROJECT_FILE = 'dbshift.lint.json';

const IGNORE = /^[ \t]*--[ \t]*dbshift:ignore\b(.*)$/gm;
const RULE_LIST = /^\s*([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)\s*(.*)$/;

/** One `-- dbshift:ignore` comment that silenced (or would have silenced) findings. */
export interface LintSuppression {
  file: string;
  line: number;
  rules: string[];
  reason: string;
  /** How many findings it silenced in this run. */
  silenced: number;
}

export interface LintSettings {
  /** The project file read, if there is one. */
  file?: string;
  levels: ReadonlyMap<string, LintLevel>;
}

export interface JudgedFindings {
  findings: LintFinding[];
  suppressed: LintSuppression[];
  settings: LintSettings;
}

/** The project file beside the migrations (none for a built-in set). A broken file is a configuration error, never silently ignored. */
export function loadLintSettings(migrationsDir: string, known: ReadonlySet<string>): LintSettings {
  if (migrationsDir.startsWith('builtin:')) return { levels: new Map() };
  const file = [path.join(migrationsDir, LINT_PROJECT_FILE), path.join(path.dirname(path.resolve(migrationsDir)), LINT_PROJECT_FILE)].find((f) => fs.existsSync(f));
  if (!file) return { levels: new Map() };
  const hint = `Write it as {"rules": {"RULE": "error" | "warning" | "off"}}; the rule ids are in docs/lint.md.`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('lint-settings', `${file} is not valid JSON (${(error as Error).message}); nothing was linted.`, { hint });
  }
  const rules = (parsed as { rules?: unknown } | null)?.rules;
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) throw new ConfigError('lint-settings', `${file} has no "rules" object; nothing was linted.`, { hint });
  const levels = new Map<string, LintLevel>();
  for (const [rule, level] of Object.entries(rules)) {
    if (!known.has(rule)) throw new ConfigError('lint-settings', `${file} names the rule "${rule}", which dbshift's lint does not have; nothing was linted.`, { hint });
    if (level !== 'error' && level !== 'warning' && level !== 'off') throw new ConfigError('lint-settings', `${file} sets "${rule}" to ${JSON.stringify(level)}; a level is "error", "warning" or "off".`, { hint });
    levels.set(rule, level);
  }
  return { file, levels };
}

interface IgnoreComment {
  line: number;
  rules: string[];
  reason: string;
}

/** The `-- dbshift:ignore` comments of one file's SQL, with the findings the comments themselves deserve. */
export function ignoreComments(file: string, sql: string, known: ReadonlySet<string>): { ignores: IgnoreComment[]; findings: LintFinding[] } {
  const ignores: IgnoreComment[] = [];
  const findings: LintFinding[] = [];
  for (const match of sql.matchAll(IGNORE)) {
    const line = sql.slice(0, match.index).split('\n').length;
    const parts = RULE_LIST.exec(match[1] ?? '');
    const rules = parts ? parts[1]!.split(',').map((r) => r.trim()) : [];
    const reason = parts?.[2]?.trim() ?? '';
    if (rules.length === 0 || reason === '') {
      findings.push(findingOf(SHARED_RULES, 'ignore-without-reason', file, line, `\`-- dbshift:ignore${match[1] ?? ''}\` gives ${rules.length === 0 ? 'no rule id' : 'no reason'}: it silences nothing.`));
      continue;
    }
    const unknown = rules.filter((r) => !known.has(r));
    for (const rule of unknown) findings.push(findingOf(SHARED_RULES, 'ignore-unknown-rule', file, line, `\`-- dbshift:ignore ${rule}\` names no rule of this lint: it silences nothing.`));
    ignores.push({ line, rules: rules.filter((r) => known.has(r)), reason });
  }
  return { ignores, findings };
}

/**
 * The raw findings as the team configured them: the ignore comments of each file silence their
 * rules in that file (a migration's document counts as its up file), the project file drops the
 * rules it turns off and marks those it makes warnings. `registry` gives each rule's default level.
 */
export function judgeFindings(raw: LintFinding[], set: Pick<MigrationSet<unknown>, 'source' | 'migrations'>, registry: LintRegistry, known: ReadonlySet<string>): JudgedFindings {
  const settings = loadLintSettings(set.source, known);
  const byFile = new Map<string, Array<IgnoreComment & { file: string; suppression?: LintSuppression }>>();
  const settingsFindings: LintFinding[] = [];
  for (const migration of set.migrations) {
    const upFile = migration.files[0];
    const sources: Array<[string | undefined, string | undefined]> = [
      [upFile, migration.up?.sql],
      [migration.files.find((f) => f.endsWith('.down.sql')), migration.down?.sql],
    ];
    for (const [file, sql] of sources) {
      if (!file || sql === undefined || !sql.includes('dbshift:ignore')) continue;
      const { ignores, findings } = ignoreComments(file, sql, known);
      byFile.set(file, ignores.map((i) => ({ ...i, file })));
      settingsFindings.push(...findings);
    }
    if (migration.doc && upFile && byFile.has(upFile)) byFile.set(migration.doc, byFile.get(upFile)!);
  }
  const findings: LintFinding[] = [];
  for (const finding of [...settingsFindings, ...raw]) {
    const level = settings.levels.get(finding.rule) ?? registry[finding.rule]?.level ?? 'error';
    if (level === 'off') continue;
    const ignore = byFile.get(finding.file)?.find((i) => i.rules.includes(finding.rule));
    if (ignore) {
      ignore.suppression ??= { file: ignore.file, line: ignore.line, rules: ignore.rules, reason: ignore.reason, silenced: 0 };
      ignore.suppression.silenced++;
      continue;
    }
    const { level: _old, ...rest } = finding;
    findings.push(level === 'warning' ? { ...rest, level: 'warning' } : rest);
  }
  const suppressed = [...new Set([...byFile.values()].flat())].flatMap((i) => (i.suppression ? [i.suppression] : []));
  return { findings, suppressed, settings };
}

/** Findings that fail the lint (exit 65): every one not marked a warning. */
export function errorsOf(findings: readonly LintFinding[]): LintFinding[] {
  return findings.filter((f) => f.level !== 'warning');
}
