// dbshift as a library (docs/library.md): one function per command, each taking one
// options object and returning the result the CLI renders. Failures come back as
// `{ ok: false, error }`, never thrown; nothing is printed, nothing exits, no environment is
// read. Everything exported here is documented in docs/library.md (test/e2e/library.test.ts
// checks), and nothing else is exported.

// The versioned engine.
export { up, type UpOptions } from './api/up.js';
export { down, type DownOptions } from './api/down.js';
export { goto, type GotoOptions } from './api/goto.js';
export { migrateToLatest, type MigrateToLatestOptions } from './api/migrate-to-latest.js';
export { status, status as version, history, type StatusResult, type StatusStatus } from './api/status.js';
export { force, type ForceOptions, type ForceResult } from './api/force.js';
export { validate, type ValidateOptions, type ValidateResult } from './api/validate.js';
export { lint, type LintOptions, type LintResult } from './api/lint.js';
export { create, type CreateOptions, type CreateResult } from './api/create.js';
export { diff, type DiffOptions, type DiffResult } from './api/diff.js';
export type { ChangeOptions, MigrationsResult, MigrationsStatus } from './api/versioned.js';

// The HealthSum v5 pipeline.
export { migrate, type MigrateOptions } from './api/migrate.js';
export { plan } from './api/plan.js';
export { verify, type VerifyOptions } from './api/verify.js';
export { backup } from './api/backup.js';
export { restore, type RestoreOptions } from './api/restore.js';
export { backups, type BackupsOptions, type BackupsResult } from './api/backups.js';
export type { RunResult } from './pipeline/types.js';

// Shared vocabulary.
export type { CallOptions, MigrationsOptions, PipelineOptions, PostgresOptions, Settled, WaitOptions } from './api/options.js';
export type { CommandResult, ResultError } from './results.js';
export type { ProgressEvent, ProgressListener, ProgressResult } from './progress.js';
export { ExitCode } from './errors.js';

// What code migrations receive (`import type { MigrationContext } from 'dbshift'`).
export type { MigrationContext } from './engine/types.js';
export type { RebuildChange } from './engine/rebuild.js';
export type { Check } from './results.js';
