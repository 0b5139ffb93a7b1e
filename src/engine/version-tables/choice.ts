import type { MigrationDefinition } from '../types.js';

// Which version table a database gets when it has none yet, and the version texts to record:
// golang-migrate's (version, dirty) unless every migration is in dbmate's format, whose team
// keeps running dbmate on the same database.

export type VersionTableKind = 'golang-migrate' | 'dbmate';

export interface VersionTableChoice {
  /** The table to create when the database has no version table yet. */
  create: VersionTableKind;
  /** The digits each version's file writes ("001"): dbmate records this text, not the number. */
  texts: ReadonlyMap<number, string>;
}

export const DEFAULT_CHOICE: VersionTableChoice = { create: 'golang-migrate', texts: new Map() };

export function versionTableChoice(migrations: ReadonlyArray<Pick<MigrationDefinition, 'version' | 'versionText' | 'format'>>): VersionTableChoice {
  const dbmate = migrations.length > 0 && migrations.every((m) => m.format === 'dbmate');
  return { create: dbmate ? 'dbmate' : 'golang-migrate', texts: new Map(migrations.filter((m) => m.versionText !== undefined).map((m) => [m.version, m.versionText!])) };
}
