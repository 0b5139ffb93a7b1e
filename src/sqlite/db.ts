// The connection type on its own, without a value import: the public declarations
// (MigrationContext.db) reach it, and `import Database from 'better-sqlite3'` in a .d.ts fails
// consumers compiling with `module: commonjs` and no esModuleInterop (TS1259). The type query
// form below compiles under commonjs and nodenext alike.

/** A better-sqlite3 connection (types from @types/better-sqlite3, an optional peer dependency). */
export type Db = import('better-sqlite3').Database;
