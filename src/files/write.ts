import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The one writer of effnet's outputs: all files or none. Every file is first written in
 * full to a temporary beside its target, then the targets are replaced one by one by
 * rename (atomic on POSIX file systems); a failure at any point removes the temporaries
 * and puts back every target already replaced, so a full disk, a permission error or a
 * collision never leaves old and new outputs mixed. Writes go through symbolic links (the
 * link stays, its target changes) and keep an existing file's permissions.
 *
 * This module knows no compiler or runtime code: the CLI, code generation, reports and
 * model saving all write through it.
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

/** Where writing `path` really lands: through a symbolic link to its target, else the path itself. */
function landingPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path); // does not exist yet (or a dangling link, which is replaced)
  }
}

let sequence = 0;
/** A temporary name in the target's own directory (a rename across file systems is not atomic). */
const temporaryFor = (target: string, role: string) =>
  join(dirname(target), `.${basename(target)}.${process.pid}.${++sequence}.${role}`);

/** Whether process `pid` still runs (signal 0 tests without sending; EPERM means it runs as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the staged temporaries a killed writer left beside `target` (`.NAME.PID.N.tmp` of a
 * process that no longer runs): their content never reached a target, so removing them is
 * always safe. Backups (`.old`) are left: after a kill between two renames they hold the only
 * copy of the replaced files.
 */
function removeStaleTemporaries(target: string): void {
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return; // the directory does not exist yet
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid)))
      rmSync(join(dirname(target), name), { force: true });
  }
}

export function writeAllOrNothing(files: readonly FileToWrite[]): void {
  const targets = files.map((f) => landingPath(f.path));
  const seen = new Map<string, string>();
  targets.forEach((target, i) => {
    const earlier = seen.get(target);
    if (earlier !== undefined) throw new CollidingOutputsError(earlier, files[i].path);
    seen.set(target, files[i].path);
  });

  const staged: { temp: string; target: string; path: string; backup?: string }[] = [];
  const replaced: typeof staged = [];
  let current = files[0]?.path ?? "";
  try {
    files.forEach((file, i) => {
      current = file.path;
      const target = targets[i];
      mkdirSync(dirname(target), { recursive: true });
      removeStaleTemporaries(target);
      const temp = temporaryFor(target, "tmp");
      staged.push({ temp, target, path: file.path });
      writeFileSync(temp, file.content);
      if (existsSync(target)) chmodSync(temp, statSync(target).mode & 0o7777);
    });
    for (const s of staged) {
      current = s.path;
      if (existsSync(s.target)) {
        // A hard link keeps the old content reachable until every new file is in place.
        s.backup = temporaryFor(s.target, "old");
        try {
          linkSync(s.target, s.backup);
        } catch {
          copyFileSync(s.target, s.backup); // a file system without hard links
        }
      }
      renameSync(s.temp, s.target);
      replaced.push(s);
    }
  } catch (e) {
    for (const s of replaced.reverse()) {
      try {
        if (s.backup) renameSync(s.backup, s.target);
        else rmSync(s.target, { force: true });
      } catch {
        // Best effort: the error below names the file that failed first.
      }
    }
    for (const s of staged) {
      rmSync(s.temp, { force: true });
      if (s.backup && !replaced.includes(s)) rmSync(s.backup, { force: true });
    }
    throw new WriteError(current, e as NodeJS.ErrnoException);
  }
  for (const s of staged) if (s.backup) rmSync(s.backup, { force: true });
}
