import { describe, expect, it } from 'vitest';
import { wrapToWidth } from '../../src/cli/render.js';

describe('wrapToWidth', () => {
  it('breaks between words, continuing under the last column', () => {
    const line = '  ✓  foreign_key_check   no new violations (0 already in the source) and more words here';
    const wrapped = wrapToWidth(line, 60).split('\n');
    expect(wrapped.every((l) => l.length <= 60)).toBe(true);
    const column = line.indexOf('no new');
    for (const l of wrapped.slice(1)) expect(l.slice(0, column).trim()).toBe('');
    expect(wrapped.map((l) => l.trim()).join(' ').replace(/\s+/g, ' ')).toBe(line.trim().replace(/\s+/g, ' '));
  });

  it('leaves short lines, coloured lines and no-terminal output alone; a long word keeps its own line', () => {
    expect(wrapToWidth('short\nlines', 60)).toBe('short\nlines');
    const long = `  Backup  /srv/${'x'.repeat(80)}/health_records_backup.db`;
    expect(wrapToWidth(long, undefined)).toBe(long);
    expect(wrapToWidth(long, 60).split('\n')).toEqual([long]);
    const prose = '  SECRET_KEY does not open the encrypted values (0 of 50 sampled values decrypt). It is not the production key.';
    const lines = wrapToWidth(prose, 60).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines[1]!.startsWith('    ')).toBe(true);
  });
});
