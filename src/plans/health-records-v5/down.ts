import type { V5Inspection } from './inspect.js';
import { IDENTIFIER_INDEX, NEW_COLUMNS, TASK_LOG_INDEX, TASK_LOG_TABLE } from './schema.js';

/**
 * Pure: the statements that remove what v5 adds and nothing else, for the objects present.
 * Indexes go first: SQLite refuses to drop an indexed column. DROP COLUMN edits the table's
 * CREATE text back to what it was before ADD COLUMN appended to it.
 */
export function planV5Down(inspection: Pick<V5Inspection, 'presentIndexes' | 'hasTaskLog' | 'presentColumns'>): string[] {
  const statements: string[] = [];
  for (const index of [IDENTIFIER_INDEX, TASK_LOG_INDEX]) {
    if (inspection.presentIndexes.includes(index.name)) statements.push(`DROP INDEX ${index.name}`);
  }
  if (inspection.hasTaskLog) statements.push(`DROP TABLE ${TASK_LOG_TABLE}`);
  const present = new Set(inspection.presentColumns);
  for (const column of [...NEW_COLUMNS].reverse()) {
    if (present.has(`${column.table}.${column.name}`)) statements.push(`ALTER TABLE ${column.table} DROP COLUMN ${column.name}`);
  }
  return statements;
}
