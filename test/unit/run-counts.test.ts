import { describe, expect, it } from 'vitest';
import { runCounts } from '../../src/engine/versions.js';

// A run's row counts from its migrations' own: the first before, the last after, a rename
// carried to the new name, and rows added to a large table without a count (docs/safety.md).

describe('runCounts', () => {
  it('keeps the first before and the last after, follows a rename, and drops tables that end as they began', () => {
    expect(
      runCounts([
        [{ name: 'a', before: 5, after: 6 }, { name: 'b', before: 1, after: 2 }],
        [{ name: 'a2', was: 'a', before: 6, after: 7 }, { name: 'b', before: 2, after: 1 }],
      ]),
    ).toEqual({ a2: { before: 5, after: 7 } });
  });

  it('rows added without a count add to an exact count before them, add up between them, and a later exact count fixes the run\'s before', () => {
    expect(runCounts([[{ name: 'big', before: 10, after: 11 }], [{ name: 'big', before: null, after: null, added: 3 }]])).toEqual({ big: { before: 10, after: 14 } });
    expect(runCounts([[{ name: 'big', before: null, after: null, added: 3 }], [{ name: 'big', before: null, after: null, added: 2 }]])).toEqual({ big: { before: null, after: null, added: 5 } });
    expect(runCounts([[{ name: 'big', before: null, after: null, added: 3 }], [{ name: 'big', before: 103, after: 90 }]])).toEqual({ big: { before: 100, after: 90 } });
    expect(runCounts([[{ name: 'big', before: null, after: null, added: 1 }]])).toEqual({ big: { before: null, after: null, added: 1 } });
  });
});
