import {
  accessSync,
  chmodSync,
  constants,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The one writer of effnet's outputs: all files or none, even across a kill -9.
 *
 * POSIX renames one file atomically, never several, so a multi-file write is a small
 * transaction with a rollback journal:
 *  1. stage: every new file is written in full (and fsynced) to a temporary beside its
 *     target (a rename across file systems is not atomic), with the old file's mode;
 *  2. back up: every existing target gets a hard link (or a copy) beside it, so the old
 *     content stays reachable;
 *  3. journal: a record of every target, temporary and backup is written (temporary, fsync,
 *     rename) into the first target's directory, and a pointer to it into every other
 *     directory written, so that the next writer of any of them finds it;
 *  4. rename every temporary over its target;
 *  5. commit: unlink the journal (one atomic step), then remove the backups and pointers.
 * A failure before 5 rolls back in-process; a kill before 5 leaves the journal, and the next
 * write into any of those directories (or `recoverInterruptedWrites`) rolls it back, so after
 * a kill at any point the files are all old or, once the journal is gone, all new. Rolling
 * back is idempotent (each step can be repeated after a kill during recovery): a renamed
 * entry is one whose temporary is gone; its backup is renamed back, or it is removed if there
 * was no old file. Staged temporaries and backups of a dead writer with no journal never
 * reached a target and are removed. Files of a writer that still runs are left alone.
 *
 * Writes go through symbolic links (the link stays, its target changes) and keep an existing
 * file's permissions. This module knows no compiler or runtime code: the CLI, code
 * generation, reports and model saving all write through it.
 */
export interface FileToWrite {
  readonly path: string;
  readonly content: string | Uint8Array;
}

/** Which file could not be written, and the file system's reason. */
export class WriteError extends Error {
  constructor(
    readonly path: string,
    readonly reason: NodeJS.ErrnoException,
  ) {
    super(`cannot write ${path}: ${reason.message}`);
  }
}

/** Raised before anything is written when two outputs are the same file. */
export class CollidingOutputsError extends Error {
  constructor(
    readonly first: string,
    readonly second: string,
  ) {
    super(`${first} and ${second} are the same file`);
  }
}

/** One file of a transaction, as the journal records it (absolute paths). */
interface JournalEntry {
  readonly target: string;
  readonly temp: string;
  /** A hard link to (or copy of) the file the write replaces; absent when there was none. */
  backup?: string;
}

interface Journal {
  readonly pid: number;
  readonly entries: readonly JournalEntry[];
  /** The pointers to this journal in the other directories written. */
  readonly pointers: readonly string[];
}

/** Where writing `path` really lands: through a symbolic link to its target, else the path itself. */
function landingPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path); // does not exist yet (or a dangling link, which is replaced)
  }
}

/**
 * Names of the transaction's own files, each with the writer's pid (to tell a dead writer's
 * from a running one's) and the marker `effnet-` (so that no user's file is ever taken for one).
 */
let sequence = 0;
const temporaryFor = (target: string, role: "tmp" | "old") =>
  join(dirname(target), `.${basename(target)}.effnet-${process.pid}-${++sequence}.${role}`);
const STAGED = /^\..+\.effnet-(\d+)-\d+\.(?:tmp|old)$/;
const JOURNAL = /^\.effnet-journal-(\d+)-\d+\.(json|pointer)$/;
const journalName = (pid: number, n: number, kind: "json" | "pointer") => `.effnet-journal-${pid}-${n}.${kind}`;

/** Whether process `pid` still runs (signal 0 tests without sending; EPERM means it runs as another user). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writes `content` to `path` and flushes it to the disk (a journal is only as good as what preceded it). */
function writeDurably(path: string, content: string | Uint8Array, mode?: number): void {
  const fd = openSync(path, "w", mode ?? 0o666);
  try {
    const bytes = typeof content === "string" ? Buffer.from(content) : content;
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a directory's entries (the renames and links in it) to the disk; not every file system can. */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Durability across a power cut is best effort; a kill -9 needs no flush.
  }
}

/**
 * Puts every entry back as it was before the write. `renamed` says whether an entry's new file
 * went over its target: known in the writing process, and in recovery inferred from the
 * temporary being gone (the journal is written only once every temporary exists). Idempotent,
 * so a kill during recovery is recovered by the next run: see the module comment.
 */
function rollBack(entries: readonly JournalEntry[], renamed: (e: JournalEntry) => boolean): void {
  for (const e of [...entries].reverse()) {
    if (!renamed(e)) {
      // The target is still the old file.
      rmSync(e.temp, { force: true });
      if (e.backup) rmSync(e.backup, { force: true });
    } else if (e.backup) {
      if (existsSync(e.backup)) renameSync(e.backup, e.target);
    } else rmSync(e.target, { force: true });
  }
}

/** Rolls back one dead writer's journal, then removes its pointers and the journal itself, last. */
function recoverJournal(path: string): void {
  let journal: Journal;
  try {
    journal = JSON.parse(readFileSync(path, "utf8")) as Journal;
  } catch {
    return; // gone meanwhile (another writer recovered it)
  }
  rollBack(journal.entries, (e) => !existsSync(e.temp));
  for (const pointer of journal.pointers) rmSync(pointer, { force: true });
  rmSync(path, { force: true });
}

/**
 * Finishes what a killed writer left in `dir`: its journals rolled back (through a pointer
 * too, which may name a journal in another directory), then its staged temporaries, backups
 * and stale pointers removed. Called by every write for each directory it writes into.
 */
export function recoverInterruptedWrites(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // the directory does not exist yet
  }
  let path = dir;
  try {
    for (const name of names) {
      const m = JOURNAL.exec(name);
      if (!m || alive(Number(m[1]))) continue;
      path = join(dir, name);
      if (m[2] === "json") recoverJournal(path);
      else {
        let journal: string | undefined;
        try {
          journal = readFileSync(path, "utf8");
        } catch {
          continue;
        }
        if (existsSync(journal)) recoverJournal(journal);
        rmSync(path, { force: true }); // its journal committed or was recovered
      }
    }
    for (const name of names) {
      const m = STAGED.exec(name);
      path = join(dir, name);
      if (m && !alive(Number(m[1]))) rmSync(path, { force: true });
    }
  } catch (e) {
    throw new WriteError(path, e as NodeJS.ErrnoException);
  }
}

/**
 * A test hook (test/files/kill.test.ts): with EFFNET_TEST_PAUSE_AT_WRITE_STEP=N the writer
 * names each step on stderr and sleeps at step N, so that a test can kill it exactly there.
 */
const pauseAt = Number(process.env.EFFNET_TEST_PAUSE_AT_WRITE_STEP ?? 0);
let step = 0;
function reached(what: string): void {
  if (!pauseAt) return;
  process.stderr.write(`effnet-test: write step ${++step}: ${what}\n`);
  if (step === pauseAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

export function writeAllOrNothing(files: readonly FileToWrite[]): void {
  const targets = files.map((f) => landingPath(f.path));
  const seen = new Map<string, string>();
  targets.forEach((target, i) => {
    const earlier = seen.get(target);
    if (earlier !== undefined) throw new CollidingOutputsError(earlier, files[i].path);
    seen.set(target, files[i].path);
  });
  if (files.length === 0) return;

  const entries: JournalEntry[] = [];
  const renamed = new Set<JournalEntry>();
  const dirs = [...new Set(targets.map((t) => dirname(t)))];
  const transaction = ++sequence;
  const journal = join(dirs[0], journalName(process.pid, transaction, "json"));
  const pointers = dirs.slice(1).map((d) => join(d, journalName(process.pid, transaction, "pointer")));
  let current = files[0].path;
  try {
    for (const dir of dirs) {
      current = dir;
      mkdirSync(dir, { recursive: true });
    }
    dirs.forEach(recoverInterruptedWrites);
    files.forEach((file, i) => {
      current = file.path;
      const target = targets[i];
      const entry: JournalEntry = { target, temp: temporaryFor(target, "tmp") };
      entries.push(entry);
      const old = existsSync(target) ? statSync(target).mode & 0o7777 : undefined;
      // Replacing is writing in place: a file we may not write is refused (EACCES), not renamed over.
      if (old !== undefined) accessSync(target, constants.W_OK);
      writeDurably(entry.temp, file.content, old);
      if (old !== undefined) {
        chmodSync(entry.temp, old); // the umask may have narrowed it
        // A hard link keeps the old content reachable until every new file is in place.
        entry.backup = temporaryFor(target, "old");
        try {
          linkSync(target, entry.backup);
        } catch {
          copyFileSync(target, entry.backup); // a file system without hard links
        }
      }
      reached(`staged ${file.path}`);
    });
    current = journal;
    for (const pointer of pointers) writeDurably(pointer, journal);
    const record: Journal = { pid: process.pid, entries, pointers };
    writeDurably(`${journal}.partial`, JSON.stringify(record));
    renameSync(`${journal}.partial`, journal);
    for (const dir of dirs) syncDirectory(dir);
    reached("journal written");
    entries.forEach((entry, i) => {
      current = files[i].path;
      renameSync(entry.temp, entry.target);
      renamed.add(entry);
      reached(`renamed ${files[i].path}`);
    });
    for (const dir of dirs) syncDirectory(dir);
  } catch (e) {
    try {
      rollBack(entries, (e) => renamed.has(e));
      rmSync(`${journal}.partial`, { force: true });
      for (const pointer of pointers) rmSync(pointer, { force: true });
      rmSync(journal, { force: true });
    } catch {
      // Best effort: the journal stays if rolling back failed, and the next write finishes it.
    }
    throw new WriteError(current, e as NodeJS.ErrnoException);
  }
  rmSync(journal, { force: true }); // the commit: from here on, the new files stay
  reached("committed");
  for (const entry of entries) if (entry.backup) rmSync(entry.backup, { force: true });
  for (const pointer of pointers) rmSync(pointer, { force: true });
}
