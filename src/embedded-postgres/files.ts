// Small files root writes into, and reads from, folders the postgres OS user owns (relocated and
// throwaway homes, the cluster itself). Whoever controls that user (any cluster superuser, through
// `COPY … TO PROGRAM`) can put a symlink, a FIFO or a huge file there in our place: a write must never
// follow a link (root would overwrite any file it points to), and a read accepts only a small regular
// file, never through a link (root would read any file, or block forever on a FIFO).

import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'

const MAX_READ_BYTES = 64 * 1024

/**
 * Writes the file under a temporary name, created exclusively (O_CREAT|O_EXCL never follows a symlink:
 * it fails on one), then renames it into place (a rename replaces a symlink, it does not write through it).
 */
export function writeFileNoFollow(path: string, text: string, mode = 0o644): void {
  const staging = stage(path, text, mode)
  try {
    renameSync(staging, path)
  } catch (error) {
    rmSync(staging, { force: true })
    throw error
  }
}

/**
 * Creates the file with this text unless something (a file, a link) already has its name: written in
 * full under a temporary name, then hard-linked into place, which fails on any existing entry and never
 * follows one. Returns whether it was created. Two processes cannot both create it.
 */
export function createFileNoFollow(path: string, text: string, mode = 0o644): boolean {
  const staging = stage(path, text, mode)
  try {
    linkSync(staging, path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(staging, { force: true })
  }
}

/** The text written in full to a new file beside `path`, whose name it returns. */
function stage(path: string, text: string, mode: number): string {
  const staging = `${path}.${process.pid}.tmp`
  // A leftover of a crashed run with our PID (or a planted link or folder): removes the entry, never a link's target.
  rmSync(staging, { recursive: true, force: true })
  writeFileSync(staging, text, { flag: 'wx', mode })
  return staging
}

/**
 * The text of a regular file of at most 64 KiB, not opened through a symlink; undefined otherwise (also
 * when it is missing). `trustedOwners`: uids the file must belong to, for records only we write.
 */
export function readFileNoFollow(path: string, trustedOwners?: readonly number[]): string | undefined {
  return readNoFollow(path, (size) => (size > MAX_READ_BYTES ? undefined : 0), trustedOwners)
}

/** The last 64 KiB (at most) of a regular file, not opened through a symlink; undefined as above. */
export function readTailNoFollow(path: string): string | undefined {
  return readNoFollow(path, (size) => Math.max(0, size - MAX_READ_BYTES))
}

/** Reads from the offset `from(size)` to the end; undefined when `from` refuses the size. */
function readNoFollow(
  path: string,
  from: (size: number) => number | undefined,
  trustedOwners?: readonly number[],
): string | undefined {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO does not wait for a writer (and fstat then rejects it).
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    const stat = fstatSync(fd)
    const start = stat.isFile() ? from(stat.size) : undefined
    if (start === undefined) return undefined
    if (trustedOwners && !trustedOwners.includes(stat.uid)) return undefined
    const buffer = Buffer.alloc(stat.size - start)
    const read = readSync(fd, buffer, 0, buffer.length, start)
    return buffer.subarray(0, read).toString('utf8')
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** Root, and the user running this process: the only writers of the records we trust. */
export function ourUids(): number[] {
  const uid = process.getuid?.()
  return uid === undefined || uid === 0 ? [0] : [0, uid]
}
