import { createMigration } from '../engine/create.js';
import { UsageError } from '../errors.js';
import type { CommandResult } from '../results.js';
import { configOf, settle, type CallOptions, type Settled } from './options.js';

export interface CreateOptions extends CallOptions {
  /** What the migration does, e.g. `add_user_email`. */
  name: string;
  /** `sql` (an .up.sql and a .down.sql, the default) or `ts` (one code migration). */
  ext?: 'sql' | 'ts';
  /** The migrations directory (default: `migrations`). */
  dir?: string;
  /** Zero-pad the number to this many digits (default: as the existing files, else 6). */
  digits?: number;
  /** A timestamp version, golang-migrate's way: `format` a Go layout (default 20060102150405), `unix` or `unixNano`; `tz` an IANA zone (default UTC). Default: sequential, unless the newest version is already a timestamp. */
  timestamp?: { format?: string; tz?: string };
  /** Sequential numbers even after timestamp versions (golang-migrate's -seq). */
  seq?: boolean;
}

export interface CreateResult extends CommandResult {
  status: 'created' | 'failed';
  /** The new migration's version (0 when it failed). */
  version: number;
  /** The files written, the Markdown document last. */
  files: string[];
}

/** `dbshift create NAME`: write the next migration's files and its document. */
export function create(options: CreateOptions): Promise<Settled<CreateResult>> {
  return settle<CreateResult>(
    'create',
    () => {
      const ext = options.ext ?? 'sql';
      if (ext !== 'sql' && ext !== 'ts') throw new UsageError('bad-ext', `The extension (--ext) must be sql or ts, got "${String(ext)}".`, { dataState: 'Nothing was changed.' });
      const created = createMigration(configOf(options).migrationsDir, options.name, {
        ext,
        ...(options.digits !== undefined ? { digits: options.digits } : {}),
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
        ...(options.seq ? { seq: true } : {}),
      });
      return { ok: true, command: 'create', status: 'created' as const, version: created.version, files: created.files, notices: [] };
    },
    (error) => ({ ok: false, command: 'create', status: 'failed' as const, version: 0, files: [], notices: [], error }),
  );
}
