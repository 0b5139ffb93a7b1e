import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { ensureDirectory, writeFileExclusive } from '../files/create.js';

// `dbshift create NAME`: golang-migrate's `create -ext sql -seq -digits 6`, plus the team's
// Markdown document, so that no migration starts life without its risk and rollback plan.

export interface CreateResult {
  ok: boolean;
  version: number;
  files: string[];
}

const VERSION_PREFIX = /^(\d+)_/;
export const DEFAULT_DIGITS = 6;

/** The next free number, and how many digits the newest existing file uses (so 003_ is followed by 004_). */
export function nextVersion(dir: string): { version: number; digits: number | undefined } {
  let highest = 0;
  let digits: number | undefined;
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const match = VERSION_PREFIX.exec(file);
    if (!match || Number(match[1]) < highest) continue;
    highest = Number(match[1]);
    digits = match[1]!.length;
  }
  return { version: highest + 1, digits };
}

export interface CreateOptions {
  ext: 'sql' | 'ts';
  /** Zero-padding of the number (golang-migrate's -digits); default: as the existing files, else 6. */
  digits?: number;
  /**
   * golang-migrate's timestamp versions (its default without -seq): `format` is a Go time
   * layout ("20060102150405", its default), `unix` or `unixNano`; `tz` an IANA zone (default UTC).
   * Without it: sequential, unless the directory's newest version is already a timestamp.
   */
  timestamp?: { format?: string; tz?: string };
  /** Force sequential numbers (golang-migrate's -seq). */
  seq?: boolean;
  now?: Date;
}

/** German letters keep their sound (ä → ae, ß → ss); other accents are stripped (é → e), as a person would spell them in ASCII. */
export function migrationSlug(rawName: string): string {
  const spelled = rawName.trim().replace(/[äöüÄÖÜß]/g, (c) => ({ ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss' })[c]!);
  return spelled.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** From here on a version is a timestamp, not a sequence number. */
const TIMESTAMP_FROM = 1_000_000_000;

/** golang-migrate's `time.Now().In(tz).Format(format)` for the layouts teams use; unix and unixNano as numbers. */
export function timestampVersion(now: Date, format = '20060102150405', tz = 'UTC'): string {
  if (format === 'unix') return String(Math.floor(now.getTime() / 1000));
  if (format === 'unixNano') return `${now.getTime()}000000`;
  let parts: Record<string, string>;
  try {
    parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
        .formatToParts(now)
        .map((p) => [p.type, p.value]),
    );
  } catch {
    throw new UsageError('bad-tz', `-tz ${tz} is not a time zone this system knows (e.g. UTC, Europe/Berlin).`);
  }
  // Go's reference time, Mon Jan 2 15:04:05 2006: each part of it stands for that part of now.
  const version = format.replace(/2006|01|02|15|04|05/g, (token) => ({ '2006': parts.year!, '01': parts.month!, '02': parts.day!, '15': parts.hour!, '04': parts.minute!, '05': parts.second! })[token]!);
  if (!/^\d+$/.test(version)) {
    throw new UsageError('bad-format', `-format ${format} gives "${version}", not a version number: use a layout of digits only (20060102150405, the default), unix or unixNano.`);
  }
  return version;
}

export function createMigration(dir: string, rawName: string, options: CreateOptions): CreateResult {
  const { ext } = options;
  const name = migrationSlug(rawName);
  if (!name) throw new UsageError('bad-name', `"${rawName}" has no letters or digits to name a migration with.`);
  if (options.digits !== undefined && (!Number.isInteger(options.digits) || options.digits < 1 || options.digits > 18)) {
    throw new UsageError('bad-digits', `--digits must be a whole number from 1 to 18, got ${options.digits}.`);
  }
  if (options.seq && options.timestamp) throw new UsageError('bad-create', '-seq and -format/-tz exclude each other: sequential numbers or timestamps.');
  ensureDirectory(dir);
  const next = nextVersion(dir);
  const timestamped = options.timestamp ?? (!options.seq && next.version - 1 >= TIMESTAMP_FROM ? {} : undefined);
  if (timestamped) return writeMigration(dir, timestampVersion(options.now ?? new Date(), timestamped.format, timestamped.tz), name, ext, next.version - 1);
  const version = next.version;
  const digits = options.digits ?? next.digits ?? DEFAULT_DIGITS;
  if (String(version).length > digits) {
    throw new UsageError('bad-digits', `Version ${version} does not fit in ${digits} digits.`, { hint: 'Pass a larger --digits.' });
  }
  return writeMigration(dir, String(version).padStart(digits, '0'), name, ext, 0);
}

function writeMigration(dir: string, digits: string, name: string, ext: 'sql' | 'ts', highest: number): CreateResult {
  const version = Number(digits);
  if (!Number.isSafeInteger(version)) throw new UsageError('bad-format', `Version ${digits} is above ${Number.MAX_SAFE_INTEGER}, the largest dbshift keeps exactly: use -format unix or the default layout.`);
  if (version <= highest) {
    throw new UsageError('version-not-newer', `The new version ${digits} is not above the newest one in ${dir} (${highest}): it would be numbered below migrations already written.`, { hint: 'Check the clock and -tz, or pass -seq.' });
  }
  const label = `${digits}_${name}`;
  const files: Array<[string, string]> =
    ext === 'sql'
      ? [
          [`${label}.up.sql`, `-- ${label}: up\n-- One transaction with its bookkeeping. First line \`-- dbshift:no-transaction\` for VACUUM or PRAGMA journal_mode.\n`],
          [`${label}.down.sql`, `-- ${label}: down (undo exactly what the up file does)\n`],
        ]
      : [[`${label}.ts`, codeTemplate(label)]];
  files.push([`${label}.md`, docTemplate(label)]);
  for (const [file, content] of files) writeFileExclusive(path.join(dir, file), content);
  return { ok: true, version, files: files.map(([file]) => path.join(dir, file)) };
}

function codeTemplate(label: string): string {
  return `// ${label}: a code migration. up, down and verify are synchronous; they run inside one
// transaction with foreign keys off (checked before commit). ctx.rebuildTable() changes what
// ALTER TABLE cannot (types, constraints, UNIQUE, dropping an indexed column).
import type { Check, MigrationContext } from 'dbshift';

export function up(ctx: MigrationContext): void {
  ctx.exec(\`\`);
}

export function down(ctx: MigrationContext): void {
  ctx.exec(\`\`);
}

// Optional: runs before commit; return failing checks (or throw) to roll back.
export function verify(ctx: MigrationContext): Check[] {
  return [];
}
`;
}

/** What the template says under each heading: lint flags a document whose sections still say only this. */
export const DOC_TEMPLATE_SECTIONS: Record<string, string> = {
  Overview: 'What changes and why.',
  'Data-loss risk': 'None. (Name every table and column this migration drops or rewrites, and what is lost.)',
};

export function docTemplate(label: string): string {
  return `# ${label}

## Overview
${DOC_TEMPLATE_SECTIONS.Overview}

## Data-loss risk
${DOC_TEMPLATE_SECTIONS['Data-loss risk']}

## Reversibility
Fully reversible by ${label} down.

## Testing
1. \`dbshift up 1 --database <copy>\`, then inspect the schema and data.
2. \`dbshift down 1 --database <copy>\`, check the schema is back.
3. \`dbshift up 1\` again.

## Rollback plan
\`dbshift down 1\`; if that is not enough, \`dbshift restore\` the backup taken before \`up\`.
`;
}
