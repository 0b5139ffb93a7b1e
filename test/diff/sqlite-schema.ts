import Database from 'better-sqlite3';

// The tests' own view of a SQLite schema, from the pragmas alone: written apart from the
// introspection diff uses, so that a mistake there cannot hide itself here.

export interface TestSchema {
  tables: Record<string, { columns: unknown[]; foreignKeys: unknown[]; indexes: unknown[] }>;
  views: string[];
  triggers: string[];
}

export function sqliteSchema(file: string): TestSchema {
  const db = new Database(file, { readonly: true });
  try {
    const names = (db.prepare(`SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'dbshift_history') ORDER BY name`).all() as Array<{ name: string; type: string }>);
    const tables: TestSchema['tables'] = {};
    for (const { name } of names.filter((n) => n.type === 'table')) {
      const columns = db.prepare(`SELECT lower(name) AS name, upper(type) AS type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY lower(name)`).all(name);
      const foreignKeys = db.prepare(`SELECT lower("table") AS parent, lower("from") AS col, lower("to") AS ref, on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY 1, 2`).all(name);
      const indexes = (db.prepare(`SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`).all(name) as Array<{ name: string; origin: string }>).map((index) => ({
        ...index,
        // Automatic indexes are named after their table's creation order: compare their columns instead.
        name: index.origin === 'c' ? index.name : `(${index.origin})`,
        columns: db.prepare(`SELECT coalesce(lower(name), '<expr>') AS name, "desc" FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno`).all(index.name),
      }));
      tables[name.toLowerCase()] = { columns, foreignKeys, indexes: indexes.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) };
    }
    return {
      tables,
      views: names.filter((n) => n.type === 'view').map((n) => n.name.toLowerCase()),
      triggers: names.filter((n) => n.type === 'trigger').map((n) => n.name.toLowerCase()),
    };
  } finally {
    db.close();
  }
}

/** A database file built from SQL text (the desired schema, as the tests see it). */
export function sqliteFromSql(file: string, sql: string): string {
  const db = new Database(file);
  db.exec(sql);
  db.close();
  return file;
}
