import { describe, expect, it } from 'vitest';
import { consistencyProblems, planSteps, resolveRevision } from '../../src/engine/plan.js';
import type { HistoryEntry, MigrationDefinition } from '../../src/engine/types.js';

// planSteps and consistencyProblems are pure: exact step lists and exact refusals.

const body = { transactional: true, run: () => undefined };
const m = (version: number, checksum = `c${version}`): MigrationDefinition => ({
  version,
  name: `m${version}`,
  kind: 'sql',
  files: [`${version}.up.sql`],
  checksum,
  up: body,
  down: body,
});
const set = [m(1), m(2), m(5), m(7)];
const steps = (list: ReturnType<typeof planSteps>) => list.map((s) => `${s.direction} ${s.version}->${s.versionAfter}`);
const up = (version: number, checksum = `c${version}`): HistoryEntry => ({ version, name: `m${version}`, direction: 'up', checksum, appliedAt: '2026-01-01T00:00:00Z', durationMs: 1 });
const down = (version: number): HistoryEntry => ({ ...up(version), direction: 'down' });

describe('planSteps', () => {
  it('up: all pending in order, or N of them', () => {
    expect(steps(planSteps(set, { version: 2, dirty: false }, { kind: 'up' }))).toEqual(['up 5->5', 'up 7->7']);
    expect(steps(planSteps(set, { version: 0, dirty: false }, { kind: 'up', count: 2 }))).toEqual(['up 1->1', 'up 2->2']);
    expect(planSteps(set, { version: 7, dirty: false }, { kind: 'up' })).toEqual([]);
  });

  it('down: newest first, each to the version below it (gaps included)', () => {
    expect(steps(planSteps(set, { version: 7, dirty: false }, { kind: 'down' }))).toEqual(['down 7->5']);
    expect(steps(planSteps(set, { version: 7, dirty: false }, { kind: 'down', count: 2 }))).toEqual(['down 7->5', 'down 5->2']);
    expect(steps(planSteps(set, { version: 2, dirty: false }, { kind: 'down', all: true }))).toEqual(['down 2->1', 'down 1->0']);
  });

  it('down to zero needs --all (exit 64)', () => {
    expect(() => planSteps(set, { version: 2, dirty: false }, { kind: 'down', count: 2 })).toThrow(expect.objectContaining({ code: 'down-to-zero', exitCode: 64 }));
    expect(() => planSteps(set, { version: 1, dirty: false }, { kind: 'down' })).toThrow(expect.objectContaining({ code: 'down-to-zero' }));
  });

  it('goto goes either way and refuses unknown versions', () => {
    expect(steps(planSteps(set, { version: 1, dirty: false }, { kind: 'goto', version: 5 }))).toEqual(['up 2->2', 'up 5->5']);
    expect(steps(planSteps(set, { version: 7, dirty: false }, { kind: 'goto', version: 2 }))).toEqual(['down 7->5', 'down 5->2']);
    expect(steps(planSteps(set, { version: 2, dirty: false }, { kind: 'goto', version: 0, all: true }))).toEqual(['down 2->1', 'down 1->0']);
    expect(() => planSteps(set, { version: 2, dirty: false }, { kind: 'goto', version: 3 })).toThrow(expect.objectContaining({ code: 'unknown-version', exitCode: 66 }));
  });
});

describe('consistencyProblems', () => {
  it('none when history and files agree', () => {
    expect(consistencyProblems(set, { version: 5, dirty: false }, [up(1), up(2), up(5)])).toEqual([]);
  });

  it('an applied file that changed is named', () => {
    const problems = consistencyProblems([m(1), m(2, 'edited'), m(5)], { version: 5, dirty: false }, [up(1), up(2), up(5)]);
    expect(problems).toEqual([expect.objectContaining({ code: 'applied-migration-changed', version: 2 })]);
  });

  it('a reverted migration may change; a missing applied one may not', () => {
    expect(consistencyProblems([m(1), m(2, 'edited')], { version: 1, dirty: false }, [up(1), up(2), down(2)])).toEqual([]);
    expect(consistencyProblems([m(1)], { version: 2, dirty: false }, [up(1), up(2)]).map((p) => p.code)).toEqual(['applied-migration-missing']);
  });

  it('a pending migration numbered below the current version is out of order', () => {
    const problems = consistencyProblems([m(1), m(2), m(3)], { version: 3, dirty: false }, [up(1), up(3)]);
    expect(problems).toEqual([expect.objectContaining({ code: 'migration-out-of-order', version: 2 })]);
  });

  it('versions below what dbshift recorded came from golang-migrate: applied, no checksum to compare', () => {
    expect(consistencyProblems(set, { version: 7, dirty: false }, [up(7)])).toEqual([]);
    expect(consistencyProblems(set, { version: 5, dirty: false }, [])).toEqual([]);
  });
});

describe('planSteps: the direction is part of the word, and reverting everything is explicit', () => {
  const at = (version: number) => ({ version, dirty: false });
  it('downgrade -N reverts exactly N; reaching zero needs all', () => {
    expect(steps(planSteps(set, at(5), { kind: 'down', count: 1 }))).toEqual(['down 5->2']);
    expect(() => planSteps(set, at(2), { kind: 'down', count: 2 })).toThrow(expect.objectContaining({ code: 'down-to-zero', exitCode: 64 }));
    expect(() => planSteps(set, at(2), { kind: 'down', count: 9 })).toThrow(expect.objectContaining({ code: 'down-to-zero' }));
    expect(steps(planSteps(set, at(2), { kind: 'down', count: 2, all: true }))).toEqual(['down 2->1', 'down 1->0']);
    expect(steps(planSteps(set, at(5), { kind: 'down', count: 1, all: true }))).toEqual(['down 5->2']);
  });

  it('goto 0 needs all', () => {
    expect(() => planSteps(set, at(2), { kind: 'goto', version: 0 })).toThrow(expect.objectContaining({ code: 'down-to-zero', exitCode: 64 }));
    expect(steps(planSteps(set, at(2), { kind: 'goto', version: 0, all: true }))).toEqual(['down 2->1', 'down 1->0']);
    expect(planSteps(set, at(0), { kind: 'goto', version: 0 })).toEqual([]);
  });

  it('upgrade never goes down, downgrade never goes up, naming current and target', () => {
    expect(() => planSteps(set, at(5), { kind: 'goto', version: 1, only: 'up' })).toThrow(
      expect.objectContaining({ code: 'upgrade-wrong-direction', exitCode: 64, message: expect.stringMatching(/version 5 \(m5\).*target 1 \(m1\)/) }),
    );
    expect(() => planSteps(set, at(1), { kind: 'goto', version: 5, only: 'down' })).toThrow(expect.objectContaining({ code: 'downgrade-wrong-direction', exitCode: 64 }));
    expect(steps(planSteps(set, at(1), { kind: 'goto', version: 5, only: 'up' }))).toEqual(['up 2->2', 'up 5->5']);
    expect(steps(planSteps(set, at(7), { kind: 'goto', version: 2, only: 'down' }))).toEqual(['down 7->5', 'down 5->2']);
    expect(planSteps(set, at(5), { kind: 'goto', version: 5, only: 'up' })).toEqual([]);
  });

  it('a revision may be a file stem or a name', () => {
    expect(resolveRevision(set, '000005_m5')).toBe(5);
    expect(resolveRevision(set, 'm7')).toBe(7);
    expect(resolveRevision(set, '5')).toBe(5);
    expect(() => resolveRevision(set, '000005_m7')).toThrow(expect.objectContaining({ code: 'unknown-version', exitCode: 66 }));
    expect(() => resolveRevision([m(1), { ...m(2), name: 'm1' }], 'm1')).toThrow(expect.objectContaining({ code: 'ambiguous-revision', exitCode: 64 }));
    expect(steps(planSteps(set, at(1), { kind: 'goto', version: 'm5', only: 'up' }))).toEqual(['up 2->2', 'up 5->5']);
  });
});
