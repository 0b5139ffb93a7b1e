import type { Schema, Dialect } from './model.js';
import type { DialectPlanner } from './plan.js';
import type { GeneratedMigration } from './render.js';

// What diff needs of an engine: the two schemas, and a scratch copy of the current one to
// replay the generated migrations on. One implementation per engine (sqlite/, postgres/).

export interface Replayed {
  /** The scratch schema after every generated up. */
  afterUp: Schema;
  /** … and after every down, in reverse order. */
  afterDown: Schema;
}

export interface DiffEngine {
  readonly dialect: Dialect;
  readonly planner: DialectPlanner;
  /** What the migrations (or the live database) have: CURRENT. */
  current(): Promise<Schema>;
  /** What the schema should be: DESIRED. */
  desired(): Promise<Schema>;
  /** Replay the generated migrations, up then down, on a scratch copy of CURRENT (never on a real database). */
  replay(migrations: GeneratedMigration[]): Promise<Replayed>;
  close(): Promise<void>;
}

/** Where the desired schema comes from, as given: a .sql file, a directory of them, a SQLite file, a postgres:// URL. */
export interface DiffSources {
  /** The migrations directory (CURRENT is what they build, unless `from`). */
  dir: string;
  /** DESIRED. */
  to: string;
  /** CURRENT from a live database instead of the migrations. */
  from?: string;
}
