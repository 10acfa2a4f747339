import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Settings that make git's "unchanged" mean "the raw bytes are the index blob, with this mode", whatever the
 * user's configuration says: no file-system monitor or assume-unchanged shortcut, the executable bit and
 * symlinks compared, stat data compared in full, and no line-ending conversion when git compares content.
 * (attributesFile: the user's global attributes, which could also convert; GIT_ATTR_NOSYSTEM drops the
 * system's.)
 */
const TRUSTWORTHY = [
  "core.fsmonitor=false",
  "core.ignoreStat=false",
  "core.fileMode=true",
  "core.symlinks=true",
  "core.checkStat=default",
  "core.trustctime=true",
  "core.autocrlf=false",
  "core.attributesFile=/dev/null",
  // git refuses a repository another user owns ("dubious ownership": root in a CI container on a checkout owned by
  // uid 1000), and the walk makes would fall back to copies the files .gitignore leaves out, secrets included.
  // git's worry is that such a repository's config could run commands; makes runs the project's makes.ts, so it
  // trusts the project far more than that already (and the command ls-files could run, fsmonitor, is off above).
  "safe.directory=*",
].flatMap((setting) => ["-c", setting]);

/** Why git gave no output: it is not on the PATH, or it failed (its first line on stderr, or how it ended). */
export type GitFailure = { readonly failed: string } | "not-found";

/** git's output, or why there is none. */
export type GitRun = Buffer | GitFailure;

/**
 * Runs git with its output going to an unlinked temporary file rather than a pipe: the index listing is ~80
 * bytes per file, far more than a pipe holds, and makes.ts is being evaluated meanwhile, so git would stall on
 * a full pipe until the event loop is free to read it (measured: 40 ms of git became 130 ms). Falls back to a
 * pipe where no temporary file can be made. Resolves with the output, a failure (git's first line on stderr, or
 * how it ended) or "not-found" (no git on the PATH); never rejects: the caller walks the tree instead.
 */
export function runGit(projectDir: string, args: readonly string[]): Promise<GitRun> {
  let fd: number | undefined;
  try {
    const path = join(tmpdir(), `makes-git-${process.pid}-${randomBytes(6).toString("hex")}`);
    fd = openSync(path, "w+", 0o600);
    unlinkSync(path);
  } catch {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  }
  const out = fd;
  return new Promise((resolveOutput) => {
    const piped: Buffer[] = [];
    const child = spawn("git", [...TRUSTWORTHY, ...args], {
      cwd: projectDir,
      stdio: ["ignore", out ?? "pipe", "pipe"],
      env: { ...process.env, GIT_ATTR_NOSYSTEM: "1" },
    });
    child.stdout?.on("data", (chunk: Buffer) => piped.push(chunk));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString("utf8");
    });
    let settled = false;
    // Once: a git that cannot be started reports an error and then a close.
    const done = (output: GitRun): void => {
      if (settled) return;
      settled = true;
      if (out !== undefined) closeSync(out);
      resolveOutput(output);
    };
    child.on("error", (err: NodeJS.ErrnoException) => done(err.code === "ENOENT" ? "not-found" : { failed: err.message }));
    child.on("close", (code, signal) => {
      if (code !== 0) return done({ failed: stderr.split("\n").find((line) => line.trim() !== "")?.trim() ?? `git ${args[0] ?? ""} ended with ${signal ?? `exit code ${code}`}` });
      if (out === undefined) return done(Buffer.concat(piped));
      try {
        const size = fstatSync(out).size;
        const buffer = Buffer.allocUnsafe(size);
        let read = 0;
        while (read < size) {
          const n = readSync(out, buffer, read, size - read, read);
          if (n === 0) break;
          read += n;
        }
        done(buffer.subarray(0, read));
      } catch (err) {
        done({ failed: `reading git's output: ${(err as Error).message}` });
      }
    });
  });
}
