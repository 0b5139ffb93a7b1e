import { query } from '../support/pg.js';

// The tests' own view of a PostgreSQL schema, from information_schema and pg_indexes (not the
// catalog queries diff uses), so that a mistake in diff's introspection cannot hide itself.

export async function pgSchema(url: string): Promise<Record<string, unknown>> {
  const user = `NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`;
  const bookkeeping = `NOT IN ('schema_migrations', 'dbshift_history')`;
  return {
    columns: await query(
      url,
      `SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable, column_default, is_generated, generation_expression, collation_name, is_identity, identity_generation
       FROM information_schema.columns WHERE table_schema ${user} AND table_name ${bookkeeping} ORDER BY 1, 2, 3`,
    ),
    constraints: await query(
      url,
      `SELECT n.nspname, cl.relname, c.contype, pg_get_constraintdef(c.oid) AS def, c.convalidated FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
       WHERE n.nspname ${user} AND cl.relname ${bookkeeping} ORDER BY 1, 2, 3, 4`,
    ),
    indexes: await query(url, `SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname ${user} AND tablename ${bookkeeping} ORDER BY 1, 2, 3`),
    views: await query(url, `SELECT table_schema, table_name, view_definition FROM information_schema.views WHERE table_schema ${user} ORDER BY 1, 2`),
    triggers: await query(url, `SELECT trigger_schema, trigger_name, event_manipulation, event_object_table, action_statement, action_timing FROM information_schema.triggers ORDER BY 1, 2, 3`),
    enums: await query(url, `SELECT t.typname, e.enumlabel, rank() OVER (PARTITION BY t.typname ORDER BY e.enumsortorder)::int AS position FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY 1, 3`),
    sequences: await query(url, `SELECT sequence_schema, sequence_name, data_type, start_value, increment FROM information_schema.sequences ORDER BY 1, 2`),
    extensions: await query(url, `SELECT extname FROM pg_extension ORDER BY 1`),
    schemas: await query(url, `SELECT schema_name FROM information_schema.schemata WHERE schema_name ${user} AND schema_name NOT LIKE 'pg_%' ORDER BY 1`),
  };
}
