import { UsageError } from '../../errors.js';
import type { DiffEngine, DiffSources } from '../engine.js';

export async function openPostgresDiff(_sources: DiffSources, _server: { server: string | undefined; env: Record<string, string | undefined> }): Promise<DiffEngine> {
  throw new UsageError('not-yet', 'diff on PostgreSQL is not built yet.');
}
