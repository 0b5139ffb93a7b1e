import fs from 'node:fs';
import { hasHotJournal, walBytes } from './checks.js';
import { assertNotWriteLocked, type Db } from './open.js';

/**
 * A read transaction on the source, held while nothing else writes it. While it lasts, no
 * other connection can change the file's bytes: in rollback-journal mode a writer needs an
 * EXCLUSIVE lock, which this SHARED lock refuses (https://sqlite.org/lockingv3.html); in WAL
 * mode a reader that started with nothing in the -wal reads through read-mark 0, and no
 * checkpoint may copy frames into the file while read-mark 0 is held
 * (https://sqlite.org/wal.html#concurrency). A commit in WAL mode still lands in the -wal,
 * which `changed()` sees.
 */
export interface SourceHold {
  /**
   * A descriptor on the source, open for as long as the hold: closing *any* descriptor of a
   * file drops every POSIX lock this process holds on it (SQLite's included), so whatever reads
   * the file's bytes outside SQLite (the header, the backup's hash) reads through this one.
   */
  readonly fd: number;
  /** Why the file may no longer be as it was when the hold began, or undefined if it is. */
  changed(): string | undefined;
  /** The same, from the file alone (no connection, no lock probe): usable after release(). */
  bytesChanged(): string | undefined;
  /** End the read transaction. Idempotent. */
  release(): void;
  /**
   * Then close the descriptor: only when the run ends, since closing it also drops the read
   * locks of the other connections in this process (the source's quick_check worker).
   */
  close(): void;
}

/** Why a source is not quiescent, or the hold on it. */
export type QuiescentOutcome = { hold: SourceHold } | { hold?: undefined; reason: string };

/**
 * Take a read transaction on `source` (through `db`, an open read-only connection to it) and
 * prove that nothing else writes it: nothing in the -wal, no hot journal, no writer holding or
 * waiting for its lock. Holds nothing when the proof fails.
 */
export function holdIfQuiescent(source: string, db: Db, busyTimeoutMs: number): QuiescentOutcome {
  const before = notQuiescent(source);
  if (before) return { reason: before };
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  const fd = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  let released = false;
  let closed = false;
  const hold: SourceHold = {
    fd,
    changed() {
      const now = notQuiescent(source) ?? writerWaiting(source, busyTimeoutMs, db);
      if (now) return now;
      return readHeader(fd).equals(header) ? undefined : 'its header (change counter) moved';
    },
    bytesChanged() {
      return notQuiescent(source) ?? (readHeader(fd).equals(header) ? undefined : 'its header (change counter) moved');
    },
    release() {
      if (released) return;
      released = true;
      if (db.open && db.inTransaction) db.exec('COMMIT');
    },
    close() {
      hold.release();
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
  const header = readHeader(fd);
  const now = writerWaiting(source, busyTimeoutMs, db) ?? notQuiescent(source);
  if (now) {
    hold.close();
    return { reason: now };
  }
  return { hold };
}

function notQuiescent(source: string): string | undefined {
  if (walBytes(source) > 0) return 'its -wal holds content';
  if (hasHotJournal(source)) return 'a hot journal sits beside it';
  return undefined;
}

function writerWaiting(source: string, busyTimeoutMs: number, db: Db): string | undefined {
  try {
    assertNotWriteLocked(source, busyTimeoutMs, db);
    return undefined;
  } catch {
    return 'another process holds or waits for its write lock';
  }
}

/** The 100-byte header: its change counter moves with every commit in rollback-journal mode. */
function readHeader(fd: number): Buffer {
  const header = Buffer.alloc(100);
  fs.readSync(fd, header, 0, 100, 0);
  return header;
}
