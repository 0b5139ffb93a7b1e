import type pg from 'pg';
import type { RowChanges, TableChange } from '../../driver.js';
import { quoteIdent, type PgStatement } from './statements.js';

// The row-loss backstop on PostgreSQL, at the cost of what a migration changes (docs/safety.md).
// PostgreSQL counts, per table and per transaction, the rows inserted and deleted
// (pg_stat_xact_user_tables), deletes by a cascade or a trigger included, at no scan. A table
// the migration began with is proven not to have lost rows when it still has its oid and its
// storage (relfilenode), and no deletion was counted on it. What the counters cannot prove,
// exact counts decide:
//   - TRUNCATE (and a rewrite) gives the table new storage and resets its counters: its rows
//     are counted before a TRUNCATE or DROP the migration's SQL names, when nothing wrote the
//     table before (then that count is the count at the start);
//   - a counted deletion: an aborted subtransaction (ROLLBACK TO SAVEPOINT, a PL/pgSQL
//     EXCEPTION block) leaves its inserts and deletes in the counters, so inserts may hide a
//     deletion, and a deletion may be undone;
//   - a table dropped whose name another table then takes (drop + create), compared with it.
// For those the migration is rolled back and run once more, with exactly those tables counted
// before it starts (RecountNeeded, handled by the driver's transaction). A table the migration
// never touched is never counted. Tables are told apart by oid; a name is its exact spelling.
//
// What a migration touched is read from the locks its transaction holds, not from the whole
// catalog: no statement changes a table's rows, storage or name without a lock of at least ROW
// EXCLUSIVE on it, held to the end of the transaction (a cascade's and a trigger's writes too; a
// dropped table's lock outlives its catalog row), and a lock taken in a subtransaction that rolled
// back goes with what it did. So the proof at the end reads the catalog and the counters of those
// tables only (pg_locks of this backend), and the cost does not grow with the tables the database
// holds. On PostgreSQL 15+ each migration's transaction starts with the session's counters
// reported (pg_stat_force_next_flush at the end of the one before), so no baseline of every
// table is read either; before 15 the baseline is read as before. A watch that spans several
// transactions (`exhaustive`: a file's own BEGIN … COMMIT) cannot use the locks, and counts all.

/** A user table when the migration began or ended. */
interface Relation {
  oid: string;
  filenode: string;
  schema: string;
  name: string;
  /** A partition: the table at the top of its tree (a declaration of that table covers it). */
  root: string | null;
}

interface Counters {
  ins: number;
  del: number;
}

/** The migration must run again with these tables (oids) counted before it starts. */
export class RecountNeeded extends Error {
  constructor(readonly oids: ReadonlySet<string>) {
    super('the row-loss backstop needs exact counts of tables the migration changed');
  }
}

/**
 * A table dropped, or one that only gained rows, is counted for the record only up to this size:
 * the proof does not need the number (a DROP of a big table costs nothing, an INSERT of one row
 * costs one row), and a count(*) of a large table inside the migration's transaction would scan
 * all of it while the migration holds its locks.
 */
const SMALL_TABLE_BYTES = 16 * 1024 * 1024;

const COUNTERS = `SELECT relid::text AS oid, n_tup_ins AS ins, n_tup_del AS del FROM pg_catalog.pg_stat_xact_user_tables WHERE (n_tup_ins > 0 OR n_tup_del > 0)`;

const RELATIONS = `SELECT c.oid::text AS oid, c.relfilenode::text AS filenode, n.nspname AS schema, c.relname AS name,
       CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid)::oid::text END AS root
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`;

/** The catalog and the counters of the tables this transaction holds a writer's lock on (dropped ones included, without a catalog row). */
const LOCKED = `SELECT l.oid::text AS oid, c.relfilenode::text AS filenode, n.nspname AS schema, c.relname AS name,
       CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid)::oid::text END AS root,
       (c.oid IS NOT NULL AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS user_table,
       pg_catalog.pg_stat_get_xact_tuples_inserted(l.oid) AS ins, pg_catalog.pg_stat_get_xact_tuples_deleted(l.oid) AS del,
       c.relkind = 'r' AND pg_catalog.pg_relation_size(l.oid) > ${SMALL_TABLE_BYTES} AS large
  FROM (SELECT DISTINCT relation AS oid FROM pg_catalog.pg_locks
         WHERE locktype = 'relation' AND pid = pg_catalog.pg_backend_pid() AND relation IS NOT NULL
           AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')) l
  LEFT JOIN pg_catalog.pg_class c ON c.oid = l.oid LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`;

/**
 * PostgreSQL 15+ reports a session's counters at the end of a transaction when asked to: sent in
 * every transaction a watch runs in, the next one starts with its counters at zero.
 */
export const countersStartAtZero = (serverVersionNum: number): boolean => serverVersionNum >= 150000;
export const REPORT_COUNTERS_AT_END = 'SELECT pg_catalog.pg_stat_force_next_flush()';

/** What a watch reads before the migration's first statement, as text for a driver that sends it with its own; `begin` takes its results. */
export function startReadSql(countersAtZero: boolean): { sql: string; results: number } {
  return countersAtZero ? { sql: RELATIONS, results: 1 } : { sql: `${RELATIONS}; ${COUNTERS}`, results: 2 };
}
export type CatalogRead = readonly pg.QueryResult[];

export interface PgRowWatchOptions {
  client: pg.Client;
  /** The schema an unqualified name means (the driver's), whose tables are named without it. */
  schema: string;
  bookkeeping: ReadonlyArray<{ schema: string; name: string }>;
  /** Tables to count before the migration starts: what an earlier run could not prove. */
  countFirst: ReadonlySet<string>;
  /** No further run: what cannot be proven is refused. */
  lastRun: boolean;
  /** Every table counted before and after: for what outside-watch.ts cannot make a transaction of its own (several transactions: no locks or counters to read). */
  exhaustive: boolean;
  deletesRows: readonly string[];
  /** This transaction's counters start at zero (countersStartAtZero, and REPORT_COUNTERS_AT_END sent in the transaction before). */
  countersAtZero: boolean;
}

/** What the migration's end shows: tables now (by oid), this transaction's counters, and which oids it touched (undefined: all). */
interface EndState {
  now: Map<string, Relation>;
  counters: Map<string, Counters>;
  touched?: ReadonlySet<string>;
  /** Tables (oids) over SMALL_TABLE_BYTES now; unknown (empty) for an exhaustive watch, which counts everything anyway. */
  large?: ReadonlySet<string>;
}

/** An identifier as a user writes it in SQL: bare when PostgreSQL would fold it to exactly this, quoted otherwise. */
export function writtenIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

/** A declared name as PostgreSQL reads an identifier: unquoted folds to lower case, quoted keeps its spelling; `schema.table` or `table`. */
export function parseDeclared(text: string): { schema?: string; name: string } {
  const parts: string[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^."\s]+))\s*(\.|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null && match[0] !== '') {
    parts.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!.toLowerCase());
    if (match[3] !== '.') break;
  }
  return parts.length >= 2 ? { schema: parts.at(-2)!, name: parts.at(-1)! } : { name: parts[0] ?? text };
}

export class PgRowWatch {
  private readonly atStart = new Map<string, Relation>();
  /** Rows counted before the migration changed the table: at the start (a second run), or before a TRUNCATE/DROP with nothing written before it. */
  private readonly before = new Map<string, number>();
  private readonly client: pg.Client;
  private readonly schema: string;
  private readonly countFirst: ReadonlySet<string>;
  private readonly lastRun: boolean;
  private readonly exhaustive: boolean;
  private readonly deletesRows: readonly string[];

  constructor(private readonly options: PgRowWatchOptions) {
    ({ client: this.client, schema: this.schema, countFirst: this.countFirst, lastRun: this.lastRun, exhaustive: this.exhaustive, deletesRows: this.deletesRows } = options);
  }

  /** What `begin` reads, for a driver that sends it in its own round trip (then `begin(results)`). */
  get startRead(): { sql: string; results: number } {
    return startReadSql(this.options.countersAtZero && !this.exhaustive);
  }

  private display(relation: Pick<Relation, 'schema' | 'name'>): string {
    return relation.schema === this.schema ? writtenIdent(relation.name) : `${writtenIdent(relation.schema)}.${writtenIdent(relation.name)}`;
  }

  private isBookkeeping(relation: Relation): boolean {
    return this.options.bookkeeping.some((b) => b.schema === relation.schema && b.name === relation.name);
  }

  /**
   * Every user table and the raw counters in one round trip (a migration's overhead is its round
   * trips), after `before` (statements of the driver's own that share the round trip): for a
   * watch that spans several transactions.
   */
  private async everything(before?: string): Promise<EndState> {
    const results = ((await this.client.query(`${before ? `${before}; ` : ''}${RELATIONS}; ${COUNTERS}`)) as unknown as pg.QueryResult[]).slice(-2);
    const [relations, counters] = results as unknown as [pg.QueryResult<Relation>, pg.QueryResult<{ oid: string; ins: string; del: string }>];
    return { now: this.relations(relations.rows), counters: this.own(counters.rows) };
  }

  /** The tables this transaction holds a writer's lock on: their catalog rows and counters, nothing else read. */
  private async locked(before?: string): Promise<EndState> {
    const results = (await this.client.query(`${before ? `${before}; ` : ''}${LOCKED}`)) as unknown as pg.QueryResult | pg.QueryResult[];
    const rows = (Array.isArray(results) ? results.at(-1)! : results).rows as Array<Relation & { user_table: boolean; ins: string; del: string; large: boolean | null }>;
    return {
      now: this.relations(rows.filter((r) => r.user_table)),
      counters: this.own(rows),
      touched: new Set(rows.map((r) => r.oid)),
      large: new Set(rows.filter((r) => r.large).map((r) => r.oid)),
    };
  }

  private relations(rows: Relation[]): Map<string, Relation> {
    return new Map(rows.filter((r) => !this.isBookkeeping(r)).map((r) => [r.oid, { oid: r.oid, filenode: r.filenode, schema: r.schema, name: r.name, root: r.root }]));
  }

  private async count(relation: Pick<Relation, 'schema' | 'name'>): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(`SELECT pg_catalog.count(*) AS n FROM ONLY ${quoteIdent(relation.schema)}.${quoteIdent(relation.name)}`);
    return Number(rows[0]!.n);
  }

  /**
   * This migration's counters: what the view shows now, less what it showed when the migration
   * began. The view also shows earlier transactions of this session until the session reports
   * them (at most once a second, and only between transactions), so those are taken away.
   */
  private async counters(oids: string[]): Promise<Map<string, Counters>> {
    const { rows } = await this.client.query<{ oid: string; ins: string; del: string }>(`${COUNTERS} AND relid = ANY($1::oid[])`, [oids]);
    return this.own(rows);
  }

  private own(rows: Array<{ oid: string; ins: string; del: string }>): Map<string, Counters> {
    const own = new Map<string, Counters>();
    for (const r of rows) {
      const earlier = this.baseline.get(r.oid) ?? { ins: 0, del: 0 };
      const counters = { ins: Number(r.ins) - earlier.ins, del: Number(r.del) - earlier.del };
      if (counters.ins !== 0 || counters.del !== 0) own.set(r.oid, counters);
    }
    return own;
  }

  private baseline = new Map<string, Counters>();

  /** Before the migration's first statement: the catalog (and, before PostgreSQL 15, the counters' baseline), or `read`: the results of `startRead`; then the counts an earlier run asked for. */
  async begin(read?: CatalogRead): Promise<void> {
    const { sql, results } = this.startRead;
    const got = read ?? (results === 1 ? [(await this.client.query(sql)) as pg.QueryResult] : ((await this.client.query(sql)) as unknown as pg.QueryResult[]));
    for (const [oid, relation] of this.relations(got[0]!.rows as Relation[])) this.atStart.set(oid, relation);
    if (results === 2) this.baseline = this.own(got[1]!.rows as Array<{ oid: string; ins: string; del: string }>);
    for (const oid of this.exhaustive ? this.atStart.keys() : this.countFirst) {
      const relation = this.atStart.get(oid);
      if (relation && relation.filenode !== '0') this.before.set(oid, await this.count(relation));
    }
  }

  /**
   * Before a statement runs: a table it is about to truncate or drop is counted now, if nothing
   * has written it yet (then this is its count at the start). A table dropped is counted only
   * while small (the count is for the record; DROP itself costs nothing), a table truncated
   * unless the migration declares it (then its count is the proof).
   */
  async beforeStatement(statement: PgStatement): Promise<void> {
    const truncating = statement.type === 'TruncateStmt';
    const names = truncating ? truncated(statement.node) : statement.type === 'DropStmt' && statement.node.removeType === 'OBJECT_TABLE' ? dropped(statement.node) : [];
    if (names.length === 0) return;
    const { rows } = await this.client.query<{ oid: string | null; filenode: string | null; small: boolean }>(
      `SELECT c.oid::text AS oid, c.relfilenode::text AS filenode, pg_catalog.pg_relation_size(c.oid) <= $2 AS small FROM pg_catalog.unnest($1::text[]) AS t(name) LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(t.name)`,
      [names, SMALL_TABLE_BYTES],
    );
    const declared = this.deletesRows.map(parseDeclared);
    const isDeclared = (oid: string) => {
      const relation = this.atStart.get(oid);
      return !!relation && declared.some((d) => d.name === relation.name && (d.schema ?? this.schema) === relation.schema);
    };
    const fresh = rows.filter(
      (r): r is { oid: string; filenode: string; small: boolean } =>
        r.oid !== null && !this.before.has(r.oid) && this.atStart.get(r.oid)?.filenode === r.filenode && r.filenode !== '0' && (r.small || (truncating && !isDeclared(r.oid))),
    );
    if (fresh.length === 0) return;
    const touched = await this.counters(fresh.map((r) => r.oid));
    for (const { oid } of fresh) if (!touched.has(oid)) this.before.set(oid, await this.count(this.atStart.get(oid)!));
  }

  /** After the migration: the tables whose rows changed, and those that lost rows it did not declare. */
  async changes(deletesRows: readonly string[], before?: string): Promise<RowChanges> {
    const { now, counters, touched, large } = this.exhaustive ? await this.everything(before) : await this.locked(before);
    const byName = new Map([...now.values()].map((r) => [JSON.stringify([r.schema, r.name]), r]));
    const declared = deletesRows.map(parseDeclared);
    const names = new Map([...this.atStart, ...now]);
    const isDeclared = (relation: Relation | undefined): boolean => {
      if (!relation) return false;
      const root = relation.root ? names.get(relation.root) : undefined;
      return [relation, root].some((r) => r && declared.some((d) => d.name === r.name && (d.schema ?? this.schema) === r.schema));
    };
    const changed: TableChange[] = [];
    const lost: TableChange[] = [];
    const unproven = new Set<string>();
    const standing = new Set<string>();
    for (const [oid, start] of this.atStart) {
      if (start.filenode === '0') continue; // a partitioned table: its rows are its partitions'
      if (touched && !touched.has(oid)) continue; // no writer's lock: its rows, storage and name are as they were
      const kept = now.get(oid);
      const replacement = kept ? undefined : byName.get(JSON.stringify([start.schema, start.name]));
      const successor = kept ?? (replacement && !this.atStart.has(replacement.oid) ? replacement : undefined);
      if (successor) standing.add(successor.oid);
      const { ins, del } = counters.get(oid) ?? { ins: 0, del: 0 };
      const declaredLoss = isDeclared(start) || isDeclared(successor);
      const name = successor ? this.display(successor) : this.display(start);
      const was = successor && this.display(start) !== name ? { was: this.display(start) } : {};
      if (!successor) {
        // Dropped, and no table took its name: no rows of it remain to compare.
        changed.push({ name, before: this.before.get(oid) ?? null, after: null });
        continue;
      }
      const exact = this.before.get(oid);
      if (exact !== undefined) {
        const after = await this.count(successor);
        if (after !== exact) changed.push({ name, ...was, before: exact, after });
        if (after < exact && !declaredLoss) lost.push({ name, ...was, before: exact, after });
        continue;
      }
      const untouched = kept && kept.filenode === start.filenode && ins === 0 && del === 0;
      if (untouched) continue;
      // Same storage, nothing deleted: only inserts, so it cannot have fewer rows than it began with.
      if (kept && kept.filenode === start.filenode && del === 0) {
        if (large?.has(oid)) {
          changed.push({ name, ...was, before: null, after: null, added: ins });
          continue;
        }
        const after = await this.count(kept);
        changed.push({ name, ...was, before: after - ins, after });
        continue;
      }
      // New storage, nothing deleted: more rows now than inserted since the last truncation can only be rows it began with (a rewrite, not a TRUNCATE).
      if (kept && del === 0) {
        const after = await this.count(kept);
        if (after > ins) {
          if (ins > 0) changed.push({ name, ...was, before: after - ins, after });
          continue;
        }
      }
      if (declaredLoss) {
        const after = await this.count(successor);
        changed.push({ name, ...was, before: kept && kept.filenode === start.filenode ? after - ins + del : null, after });
        continue;
      }
      if (!this.lastRun) {
        unproven.add(oid);
        continue;
      }
      // A second run could not prove it either (a migration that does not do the same twice): refuse.
      lost.push({ name, ...was, before: null, after: await this.count(successor) });
    }
    if (unproven.size > 0) throw new RecountNeeded(new Set([...unproven, ...this.countFirst]));
    for (const [oid, relation] of now) {
      if (this.atStart.has(oid) || standing.has(oid) || relation.filenode === '0') continue;
      changed.push({ name: this.display(relation), before: null, after: await this.count(relation) });
    }
    return { changed, lost };
  }
}

/** TRUNCATE's tables, as the statement names them (resolved on the server with to_regclass, as the statement will be). */
function truncated(node: Record<string, unknown>): string[] {
  return ((node.relations ?? []) as Array<{ RangeVar?: { schemaname?: string; relname?: string } }>).flatMap(({ RangeVar: r }) => (r?.relname ? [qualified(r.schemaname, r.relname)] : []));
}

function dropped(node: Record<string, unknown>): string[] {
  return ((node.objects ?? []) as Array<{ List?: { items?: Array<{ String?: { sval?: string } }> } }>).flatMap(({ List: list }) => {
    const parts = (list?.items ?? []).map((item) => item.String?.sval ?? '');
    return parts.length > 0 ? [qualified(parts.length > 1 ? parts.at(-2) : undefined, parts.at(-1)!)] : [];
  });
}

const qualified = (schema: string | undefined, name: string) => (schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name));
