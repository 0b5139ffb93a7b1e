import type { ForceResult } from '../engine/force.js';
import type { LintFinding } from '../engine/lint-registry.js';
import type { StatusResult } from '../engine/status.js';
import type { ValidateResult } from '../engine/validate.js';
import type { VersionsResult } from '../engine/versions.js';
import type { VersionState } from '../engine/types.js';
import { errorLines } from './engine-io.js';

// Text for the versioned commands. The core decides; this only lays it out.

const versionText = (state: VersionState | undefined) => (state ? `${state.version}${state.dirty ? ' (dirty)' : ''}` : 'unknown');

export function renderFindings(findings: LintFinding[]): string[] {
  return findings.flatMap((f) => [`  ${f.file}:${f.line}  [${f.rule}]${f.level === 'warning' ? ' (warning)' : ''} ${f.message}`, `      fix: ${f.fix}`]);
}

export function renderVersions(result: VersionsResult): string[] {
  const verdict = result.ok ? (result.dryRun ? 'DRY RUN (nothing changed)' : 'OK') : `FAILED (exit ${result.error?.exitCode ?? 1})`;
  const lines = [`dbshift ${result.command}: ${verdict}`, ...errorLines(result.error)];
  // A run that never reached a database (none named) has nothing more to say.
  if (!result.ok && !result.database) return lines;
  lines.push('', `  Database  ${result.database}`, `  Version   ${versionText(result.before)} -> ${versionText(result.after)}`);
  if (result.backup) lines.push(`  Backup    ${result.backup.path}`, `  SHA-256   ${result.backup.sha256}`);
  if (result.steps.length > 0) {
    lines.push('', '  Migrations');
    for (const step of result.steps) {
      const label = `${String(step.version).padStart(6, '0')}_${step.name}`;
      const time = step.status === 'applied' ? `  ${step.durationMs} ms` : '';
      lines.push(`    ${step.status.padEnd(8)} ${step.direction.padEnd(4)} ${label}${step.transactional ? '' : '  (no transaction)'}${time}`);
      if (result.dryRun) lines.push(...(step.sql ?? '(code migration)').trimEnd().split('\n').map((l) => `        ${l}`));
      for (const check of step.checks ?? []) lines.push(`        ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
    }
  }
  if (result.warnings.length > 0) lines.push('', `  Lint warnings (${result.warnings.length})`, ...renderFindings(result.warnings));
  if (result.notices.length > 0) lines.push('', ...result.notices.map((n) => `  ${n}`));
  // PostgreSQL's restore over the database it was taken from replaces what is there: a deliberate --clean.
  if (result.backup && result.ok && !result.dryRun) lines.push('', `  To undo: dbshift restore ${shellWord(result.backup.path)} --to ${shellWord(result.database)}${/^postgres(ql)?:/i.test(result.database) ? ' --clean' : ''}`);
  // Every table's rows, before and after; on PostgreSQL also how to restore by hand.
  const counts = Object.entries(result.counts ?? {});
  if (counts.length > 0) {
    lines.push('', '  Rows (before -> after)');
    for (const [table, { before, after, added }] of counts) {
      lines.push(`    ${table.padEnd(32)} ${added !== undefined ? `+${added} (a large table that only gained rows: not counted)` : `${before ?? '-'} -> ${after ?? '-'}`}`);
    }
  }
  if (result.backup?.restoreCommand && result.ok) lines.push(`  By hand: ${result.backup.restoreCommand}`);
  return lines;
}

export function renderStatus(result: StatusResult, withHistory: boolean, verbose = false): string[] {
  if (!result.ok) return [`dbshift ${result.command}: FAILED (exit ${result.error?.exitCode ?? 1})`, ...errorLines(result.error)];
  const current = result.current!;
  const lines = [`${current.version}${current.name ? ` (${current.name})` : current.version === 0 ? ' (nothing applied)' : ''}${current.dirty ? ' DIRTY' : ''}`];
  if (!withHistory) return lines;
  lines.unshift(`dbshift history: ${result.database}`, ...(verbose ? [`  Migrations ${result.migrations}`] : []));
  lines[lines.length - 1] = `  Version   ${lines[lines.length - 1]}`;
  lines.push('', '  Migrations');
  for (const m of result.migrationsStatus) {
    const applied = m.appliedAt ? `applied ${m.appliedAt} in ${m.durationMs} ms` : m.state === 'applied' ? 'applied (by another tool)' : 'pending';
    lines.push(`    ${m.state === 'applied' ? '[x]' : '[ ]'} ${m.label.padEnd(40)} ${applied}${m.changed ? '  CHANGED SINCE APPLIED' : ''}`);
    lines.push(`        sha256 ${m.checksum}`);
    if (verbose) {
      const traits = [m.kind, m.transactional ? 'one transaction' : 'no transaction (dirty protocol)', m.reversible ? 'reversible' : 'NO DOWN'];
      lines.push(`        ${traits.join(', ')}`, ...m.files.map((f) => `        file   ${f}`), `        doc    ${m.doc ?? '(none)'}`);
      if (m.changed) lines.push(`        sha256 when applied ${m.appliedChecksum}`);
    }
  }
  if (result.history.length > 0) {
    lines.push('', '  Log');
    for (const h of result.history) {
      lines.push(`    ${h.appliedAt}  ${h.direction.padEnd(5)} ${String(h.version).padStart(6, '0')}_${h.name}  ${h.durationMs} ms${verbose && h.checksum ? `  sha256 ${h.checksum}` : ''}`);
    }
  }
  if (result.problems.length > 0) lines.push('', '  Problems', ...result.problems.map((p) => `    ${p.message}`));
  return lines;
}

export function renderForce(result: ForceResult): string[] {
  const verdict = result.ok ? 'OK' : `FAILED (exit ${result.error?.exitCode ?? 1})`;
  return [`dbshift force: ${verdict}`, ...errorLines(result.error), ...(result.ok ? [`  Version ${versionText(result.before)} -> ${versionText(result.after)}`] : []), ...result.notices.map((n) => `  ${n}`)];
}

export function renderValidate(result: ValidateResult): string[] {
  const verdict = result.ok ? 'OK' : `FAILED (exit ${result.error?.exitCode ?? 1})`;
  const lines = [`dbshift validate: ${verdict} (${result.count} migrations in ${result.migrations})`];
  if (result.errors.length > 0) lines.push('', '  Errors', ...result.errors.map((e) => `    ${e.message}`));
  if (result.error && result.errors.length === 0) lines.push(...errorLines(result.error));
  else if (result.error?.hint) lines.push(`  Next: ${result.error.hint}`);
  if (result.warnings.length > 0) lines.push('', `  Warnings (${result.warnings.length})`, ...renderFindings(result.warnings));
  return lines;
}

/** A word a POSIX shell reads back unchanged: the undo line is meant to be pasted (a URL's `&` or `?`, a path's spaces). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
