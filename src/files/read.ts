import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/**
 * Reading untrusted files with a bound. `readFileSync` reads a device (`/dev/zero`), a pipe
 * or a mistyped multi-gigabyte path to the end, or until the process dies; here the bound is
 * checked while reading, so no more than `limit` + 1 bytes are ever held, whatever the file.
 *
 * Like src/files/write.ts, this module knows no compiler or runtime code.
 */

/** Raised when a file holds more than the caller's limit (the file was not read further). */
export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly limit: number,
  ) {
    super(`${path} is larger than ${limit} bytes`);
  }
}

const CHUNK_BYTES = 1024 * 1024;

/** The whole file, at most `limit` bytes (FileTooLargeError past it); fs errors are thrown as they come. */
export function readBounded(path: string, limit: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const stat = fstatSync(fd);
    // A regular file says its size: refuse it unread. Devices and pipes say 0 and are bounded below.
    if (stat.isFile() && stat.size > limit) throw new FileTooLargeError(path, limit);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limit + 1 - length));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      length += n;
      if (length > limit) throw new FileTooLargeError(path, limit);
    }
    return Buffer.concat(chunks, length);
  } finally {
    closeSync(fd);
  }
}
