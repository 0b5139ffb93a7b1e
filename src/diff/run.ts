import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DIGITS, nextVersion } from '../engine/create.js';
import { DataError, UsageError } from '../errors.js';
import { ensureDirectory, writeFileExclusive } from '../files/create.js';
import type { DiffEngine } from './engine.js';
import type { Schema } from './model.js';
import { planDiff, type PlanOptions, type DiffPlan, type Finding, type Operation } from './plan.js';
import { renderMigrations, type GeneratedMigration } from './render.js';

// diff from end to end, on an open engine: compare, plan, render, prove by replay, write. The
// files are written only after the replay proved that up turns CURRENT into DESIRED and down
// turns it back; a finding, an unproven plan or --check writes nothing.

export type DiffMode = 'write' | 'check' | 'dry-run';

export interface DiffOutcome {
  status: 'in-sync' | 'written' | 'planned' | 'refused' | 'differs';
  operations: Operation[];
  findings: Finding[];
  migrations: GeneratedMigration[];
  /** The replay proved up and down (false when nothing was replayed: in sync, refused, --check). */
  proven: boolean;
  /** The files written (write mode). */
  files: string[];
  /** Tables and columns whose data the up migration deletes. */
  dataLoss: string[];
}

export interface DiffRun {
  dir: string;
  /** The migration's name (from -m). */
  name: string;
  /** Where DESIRED came from, for the files' header. */
  source: string;
  mode: DiffMode;
  options: PlanOptions;
}

function slug(raw: string): string {
  const name = raw.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!name) throw new UsageError('bad-name', `"${raw}" has no letters or digits to name a migration with.`, { dataState: 'Nothing was changed.' });
  return name;
}

/** What is left when the replayed schema is compared with the one it should be: nothing, if the plan is right. */
function residual(engine: DiffEngine, actual: Schema, wanted: Schema): string[] {
  const plan: DiffPlan = planDiff(actual, wanted, engine.planner, { allowDrop: true });
  return [...plan.operations.map((o) => o.summary), ...plan.findings.map((f) => f.message)];
}

export async function runDiff(engine: DiffEngine, run: DiffRun): Promise<DiffOutcome> {
  const name = slug(run.name);
  const [current, desired] = [await engine.current(), await engine.desired()];
  const plan = planDiff(current, desired, engine.planner, run.options);
  const dataLoss = plan.operations.flatMap((o) => o.loses ?? []);
  const base = { operations: plan.operations, findings: plan.findings, migrations: [] as GeneratedMigration[], proven: false, files: [] as string[], dataLoss };
  if (plan.findings.length > 0) return { ...base, status: 'refused' };
  if (plan.operations.length === 0) return { ...base, status: 'in-sync' };
  if (run.mode === 'check') return { ...base, status: 'differs' };

  const next = nextVersion(run.dir);
  const migrations = renderMigrations(plan, { dialect: engine.dialect, name, version: next.version, digits: next.digits ?? DEFAULT_DIGITS, source: run.source });
  const replayed = await engine.replay(migrations);
  const upLeft = residual(engine, replayed.afterUp, desired);
  const downLeft = residual(engine, replayed.afterDown, current);
  if (upLeft.length > 0 || downLeft.length > 0) {
    const what = [...upLeft.map((l) => `after up: ${l}`), ...downLeft.map((l) => `after down: ${l}`)];
    throw new DataError('diff-not-proven', `The generated migration does not do what it must, replayed on a scratch copy: ${what.join('; ')}.`, {
      hint: 'diff cannot express this change: write it by hand (`dbshift create NAME`), and report the case.',
      dataState: 'Nothing was written.',
    });
  }
  if (run.mode === 'dry-run') return { ...base, migrations, proven: true, status: 'planned' };

  ensureDirectory(run.dir);
  const files: string[] = [];
  try {
    for (const m of migrations) {
      for (const [file, content] of [[`${m.label}.up.sql`, m.up], [`${m.label}.down.sql`, m.down], [`${m.label}.md`, m.doc]] as const) {
        const target = path.join(run.dir, file);
        writeFileExclusive(target, content);
        files.push(target);
      }
    }
  } catch (error) {
    // Half a migration must never be left to run: take back what was written.
    for (const file of files) fs.rmSync(file, { force: true });
    throw error;
  }
  return { ...base, migrations, proven: true, files, status: 'written' };
}
