// dbmate's one-file migrations (pkg/dbmate/migration.go): `-- migrate:up [options]`, then the
// up SQL, then `-- migrate:down [options]` and the down SQL. `transaction:false` on a directive
// line runs that block outside a transaction; discover.ts reads the directive line as the
// block's first line, the way it reads `-- dbshift:no-transaction`.

export const DBMATE_UP = /^--\s*migrate:up(\s*$|\s+\S+)/m;
const DBMATE_DOWN = /^--\s*migrate:down(\s*$|\s+\S+)$/m;

export interface DbmateBlocks {
  up: string;
  /** dbmate 2 requires a down block; a file without one still runs up here, and cannot be reverted. */
  down?: string;
}

/** The up and down blocks of a dbmate file, each starting with its directive line; or why dbmate itself would refuse the file. */
export function splitDbmateFile(text: string): DbmateBlocks | { problem: string } {
  const up = DBMATE_UP.exec(text);
  if (!up) return { problem: 'it has no `-- migrate:up` line' };
  const down = DBMATE_DOWN.exec(text);
  if (down && down.index < up.index) return { problem: '`-- migrate:down` comes before `-- migrate:up`' };
  const before = text.slice(0, up.index).split('\n').filter((line) => line.trim() !== '' && !/^\s*--/.test(line));
  if (before.length > 0) return { problem: 'it has statements before `-- migrate:up`, which would run in neither direction' };
  return down ? { up: text.slice(up.index, down.index), down: text.slice(down.index) } : { up: text.slice(up.index) };
}
