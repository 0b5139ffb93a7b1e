import { isUtf8 } from 'node:buffer';
import { InputError } from '../errors.js';

/**
 * A migration's bytes as text, or a refusal (66). Decoding with replacement would send
 * U+FFFD to the database in place of what the file says (a Latin-1 'ü'), while the checksum
 * recorded is of the original bytes; psql refuses such a file too.
 */
export function utf8Text(bytes: Buffer, file: string): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const offset = firstInvalidUtf8(bytes);
  const line = bytes.subarray(0, offset).reduce((n, b) => (b === 0x0a ? n + 1 : n), 1);
  const hex = `0x${bytes[offset]!.toString(16).toUpperCase().padStart(2, '0')}`;
  throw new InputError('not-utf8', `${file} is not valid UTF-8: byte ${hex} at byte offset ${offset} (line ${line}).`, {
    hint: `Convert the file to UTF-8 (e.g. \`iconv -f LATIN1 -t UTF-8\`). If the migration is applied already, its checksum changes: restore the original and put the fix in a new migration.`,
    dataState: 'Nothing was changed.',
  });
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points above U+10FFFF). */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [length, low, high] = b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
    if (length === 0) return i;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      // The second byte has the narrowed range; the others are plain continuation bytes.
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return bytes.length;
}
