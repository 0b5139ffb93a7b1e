import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DataError, InputError, toToolError } from '../errors.js';
import { writeFileExclusive } from './create.js';
import { yieldToEventLoop } from '../yield.js';

export type ByteProgress = (doneBytes: number, totalBytes: number) => void | Promise<void>;

const CHUNK = 8 * 1024 * 1024;

/**
 * Read `source` once, hash it and, when `destFd` is given, write the same bytes there (fsynced
 * unless `fsyncDest` is false). Yields to the event loop between chunks so that progress
 * renders and Ctrl-C is seen.
 */
export async function streamHash(source: string, destFd: number | undefined, onProgress?: ByteProgress, fsyncDest = true): Promise<string> {
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let fd: number;
  try {
    fd = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    throw toToolError(error, source);
  }
  try {
    const total = fs.fstatSync(fd).size;
    let done = 0;
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, CHUNK, done);
      if (read === 0) break;
      const chunk = buffer.subarray(0, read);
      hash.update(chunk);
      if (destFd !== undefined) writeAll(destFd, chunk);
      done += read;
      await onProgress?.(done, total);
      await yieldToEventLoop();
    }
    if (destFd !== undefined && fsyncDest) fs.fsyncSync(destFd);
    return hash.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset);
}

export function sha256File(file: string, onProgress?: ByteProgress): Promise<string> {
  return streamHash(file, undefined, onProgress);
}

/** `<file>.sha256` in the format of `sha256sum`, so `sha256sum -c` works from the backup directory. */
export function checksumPathFor(file: string): string {
  return `${file}.sha256`;
}

export function writeChecksumFile(file: string, sha256: string): string {
  const checksumFile = checksumPathFor(file);
  writeFileExclusive(checksumFile, `${sha256}  ${path.basename(file)}\n`);
  return checksumFile;
}

export function readChecksumFile(file: string): string {
  const checksumFile = checksumPathFor(file);
  let text: string;
  try {
    text = fs.readFileSync(checksumFile, 'utf8');
  } catch {
    throw new DataError('checksum-missing', `${file} has no checksum file (${path.basename(checksumFile)}); it cannot be trusted.`, {
      hint: 'Pick a backup that has its .sha256 file (see `dbshift backups`).',
    });
  }
  const match = /^([0-9a-f]{64}) [ *](.+)$/m.exec(text.trim());
  if (!match || match[2] !== path.basename(file)) {
    throw new DataError('checksum-unreadable', `${checksumFile} is not a sha256sum line for ${path.basename(file)}.`, {
      hint: 'Pick another backup (see `dbshift backups`).',
    });
  }
  return match[1] as string;
}

/** Hash `file` and compare with its .sha256; returns the hash or throws DataError. */
export async function verifyChecksum(file: string, onProgress?: ByteProgress): Promise<string> {
  if (!fs.existsSync(file)) throw new InputError('backup-missing', `Backup ${file} does not exist.`);
  const expected = readChecksumFile(file);
  const actual = await sha256File(file, onProgress);
  if (actual !== expected) {
    throw new DataError('checksum-mismatch', `${file} does not match its checksum: the backup was changed or damaged.`, {
      hint: 'Pick another backup (see `dbshift backups`).',
    });
  }
  return actual;
}
