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
}

export function createMigration(dir: string, rawName: string, options: CreateOptions): CreateResult {
  const { ext } = options;
  const name = rawName.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) throw new UsageError('bad-name', `"${rawName}" has no letters or digits to name a migration with.`);
  if (options.digits !== undefined && (!Number.isInteger(options.digits) || options.digits < 1 || options.digits > 18)) {
    throw new UsageError('bad-digits', `--digits must be a whole number from 1 to 18, got ${options.digits}.`);
  }
  ensureDirectory(dir);
  const next = nextVersion(dir);
  const version = next.version;
  const digits = options.digits ?? next.digits ?? DEFAULT_DIGITS;
  if (String(version).length > digits) {
    throw new UsageError('bad-digits', `Version ${version} does not fit in ${digits} digits.`, { hint: 'Pass a larger --digits.' });
  }
  const label = `${String(version).padStart(digits, '0')}_${name}`;
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
