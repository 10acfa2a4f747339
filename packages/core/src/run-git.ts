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
].flatMap((setting) => ["-c", setting]);

/**
 * Runs git with its output going to an unlinked temporary file rather than a pipe: the index listing is ~80
 * bytes per file, far more than a pipe holds, and makes.ts is being evaluated meanwhile, so git would stall on
 * a full pipe until the event loop is free to read it (measured: 40 ms of git became 130 ms). Falls back to a
 * pipe where no temporary file can be made. Resolves with the output, "failed" (not a work tree after all, or any
 * other failure) or "not-found" (no git on the PATH); never rejects: the caller walks the tree instead.
 */
export function runGit(projectDir: string, args: readonly string[]): Promise<Buffer | "failed" | "not-found"> {
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
      stdio: ["ignore", out ?? "pipe", "ignore"],
      env: { ...process.env, GIT_ATTR_NOSYSTEM: "1" },
    });
    child.stdout?.on("data", (chunk: Buffer) => piped.push(chunk));
    let settled = false;
    // Once: a git that cannot be started reports an error and then a close.
    const done = (output: Buffer | "failed" | "not-found"): void => {
      if (settled) return;
      settled = true;
      if (out !== undefined) closeSync(out);
      resolveOutput(output);
    };
    child.on("error", (err: NodeJS.ErrnoException) => done(err.code === "ENOENT" ? "not-found" : "failed"));
    child.on("close", (code) => {
      if (code !== 0) return done("failed");
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
      } catch {
        done("failed");
      }
    });
  });
}
