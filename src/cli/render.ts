import type { Check, Warning } from '../results.js';
import type { V5Summary } from '../plans/health-records-v5/index.js';
import type { RunResult } from '../pipeline/types.js';

// Text rendering of a RunResult. The core decides; this only lays it out.

/** FAILED in red on a colour terminal (the CLI decides whether it is one). */
export const red = (text: string, on: boolean) => (on ? `\u001b[31m${text}\u001b[39m` : text);

const n = (value: number | null | undefined) => (value === null || value === undefined ? '-' : value.toLocaleString('en-US'));
const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

export function renderResult(command: string, result: RunResult, colour = false): string {
  const lines: string[] = [];
  const verdict = result.ok ? result.status.toUpperCase() : red(`FAILED (exit ${result.error?.exitCode ?? 1})`, colour);
  lines.push(`dbshift ${command}: ${verdict}`);
  if (result.error) {
    lines.push('', `  ${result.error.message}`);
    if (result.error.dataState) lines.push(`  ${result.error.dataState}`);
    if (result.error.hint) lines.push(`  Next: ${result.error.hint}`);
  }
  lines.push('', ...table([
    ['Source', result.source],
    ['Target', result.target],
    ...(result.schemaState === 'not-inspected' ? [] : [['Schema', result.schemaState]]),
    ...(result.backup ? [['Backup', result.backup.path], ['SHA-256', result.backup.sha256]] : []),
    ...(result.backupRoute ? [['Backup route', `${result.backupRoute.route}: ${result.backupRoute.reason}`]] : []),
    ...(result.reportPath ? [['Report', result.reportPath]] : []),
  ], ''));

  if (result.steps.length > 0) {
    lines.push('', 'Steps');
    lines.push(...table([...result.steps.map((s) => [mark(s.status), s.name, s.status === 'not-run' ? '' : seconds(s.ms), s.status === 'failed' ? '' : s.detail ?? '']), ['', 'total', seconds(result.totalMs), '']]));
  }
  const counts = Object.entries(result.counts);
  if (counts.length > 0) {
    lines.push('', 'Rows');
    lines.push(...table([['table', 'before', 'after'], ...counts.map(([name, c]) => [name, n(c.before), n(c.after)])]));
  }
  const summary = result.summary as V5Summary | undefined;
  if (summary) {
    lines.push('', 'Status');
    lines.push(...table([
      ['health_record.processing_status', formatDistribution(summary.processingStatus)],
      ['report.generation_status', formatDistribution(summary.generationStatus)],
    ]));
    lines.push('', `Identifiers: ${n(summary.identifiers.with)} reports with, ${n(summary.identifiers.without)} without`);
    if (summary.identifiers.samples.length) lines.push(`  e.g. ${summary.identifiers.samples.join(', ')}`);
  }
  lines.push('', result.warnings.length ? 'Warnings' : 'Warnings: none');
  for (const w of result.warnings) lines.push(...renderWarning(w));
  if (result.checks.length > 0) {
    lines.push('', 'Verification');
    lines.push(...table(result.checks.map((c: Check) => [c.ok ? '✓' : '✗', c.name, c.detail + (c.ok || !c.ids?.length ? '' : ` (ids ${c.ids.join(', ')})`)])));
  }
  if (result.plan) {
    lines.push('', 'Planned statements (one transaction)');
    for (const s of result.plan.statements) lines.push(`  ${s.replace(/\s+/g, ' ')};`);
    lines.push('', 'Space needed');
    for (const s of result.plan.spaceNeeded) {
      lines.push(`  ${s.directory}: ${mib(s.neededBytes)} for ${s.for.join(' + ')}, ${mib(s.availableBytes)} free`);
    }
  }
  if (result.notices.length > 0) {
    lines.push('', 'Notices');
    for (const notice of result.notices) lines.push(`  - ${notice}`);
  }
  return lines.join('\n') + '\n';
}

function renderWarning(w: Warning): string[] {
  return [`  ! ${w.code}${w.table ? ` (${w.table})` : ''}: ${n(w.count)} rows — ${w.message}`, `    first ids: ${w.ids.join(', ')}`];
}

function formatDistribution(d: Record<string, number>): string {
  return Object.entries(d).map(([status, count]) => `${status} ${n(count)}`).join(', ') || '(no rows)';
}

function mark(status: string): string {
  return status === 'ok' ? '✓' : status === 'failed' ? '✗' : status === 'skipped' ? '–' : '·';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Fit text to a terminal `width` by breaking long lines between words, never inside one
 * (a terminal wraps mid-word). A continuation lines up under the line's last column (the
 * text after its last run of two spaces), so tables stay tables at 60 columns. A word longer
 * than the room it has (a path) keeps a line of its own.
 */
export function wrapToWidth(text: string, width: number | undefined): string {
  if (!width || width < 30) return text;
  return text
    .split('\n')
    .map((line) => (line.length <= width || line.includes('\u001b') ? line : wrapLine(line, width)))
    .join('\n');
}

function wrapLine(line: string, width: number): string {
  const leading = /^ */.exec(line)![0].length;
  const starts = [...line.matchAll(/ {2,}(?=\S)/g)].map((m) => m.index + m[0].length).filter((start) => start > leading);
  // Words are laid out from the last column that still leaves room on the first line (its
  // padding kept, so the table stays aligned); continuations hang under a column with room.
  const cut = starts.filter((start) => start <= width - 8).at(-1) ?? leading;
  const hang = ' '.repeat(starts.filter((start) => start <= width - 20).at(-1) ?? leading + 2);
  const out: string[] = [];
  let current = line.slice(0, cut);
  let empty = true;
  for (const word of line.slice(cut).split(' ').filter(Boolean)) {
    if (!empty && current.length + 1 + word.length > width) {
      out.push(current);
      current = hang + word;
    } else {
      current += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  out.push(current);
  return out.join('\n');
}
