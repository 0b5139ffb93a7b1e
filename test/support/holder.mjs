// A stand-in for the running app: opens a database and holds it in a given state until killed.
//   node holder.mjs <db> wal-rows <n>   WAL mode, autocheckpoint off, inserts n users, stays open
//   node holder.mjs <db> write-lock     BEGIN IMMEDIATE and hold the write lock
//   node holder.mjs <db> wal-idle       WAL mode, everything checkpointed (an empty -wal), stays open and idle
// Prints "ready" once the state is in place.
import Database from 'better-sqlite3';

const [file, mode, n] = process.argv.slice(2);
const db = new Database(file);
db.pragma('foreign_keys = OFF');
if (mode === 'wal-rows') {
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  const insert = db.prepare(`INSERT INTO user (vorname, nachname, username, email, is_active) VALUES ('Wal', 'Row', ?, ?, 1)`);
  for (let i = 0; i < Number(n); i++) insert.run(`wal.row.${i}`, `wal.row.${i}@example.org`);
} else if (mode === 'wal-idle') {
  db.pragma('journal_mode = WAL');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  db.pragma('wal_checkpoint(TRUNCATE)');
} else if (mode === 'write-lock') {
  db.exec('BEGIN IMMEDIATE');
  db.prepare(`UPDATE user SET level = level WHERE id = 1`).run();
}
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
