import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { BuildError, StoreError, type BuildContext } from "@makes/core";

/** How many log lines a failure shows. */
const TAIL_LINES = 20;
/** Time a builder gets to exit after SIGTERM before its process group is killed. */
const KILL_GRACE_MS = 2000;
/** The host's tools come after the declared search paths, as in the design. */
export const HOST_PATH = "/usr/local/bin:/usr/bin:/bin";
export const BASH_PRELUDE = "set -o errexit -o nounset -o pipefail\numask 022\n";

/**
 * Runs a bash script as a builder: strict options, a fresh working directory, a clean environment
 * (only what is passed in `env` plus the fixed variables below), its own process group so an
 * interrupt stops everything it started. Output goes to the build log.
 */
export async function runBash(ctx: BuildContext, script: string, env: Record<string, string>, pathDirs: readonly string[]): Promise<void> {
  const workDir = join(ctx.tmpDir, "build");
  const tmp = join(ctx.tmpDir, "tmp");
  await mkdir(workDir, { recursive: true });
  await mkdir(tmp, { recursive: true });
  const fullEnv: Record<string, string> = {
    ...env,
    out: ctx.out,
    PATH: [...pathDirs, HOST_PATH].join(":"),
    HOME: "/homeless-shelter",
    TMPDIR: tmp,
    SOURCE_DATE_EPOCH: "1",
    LANG: "C.UTF-8",
    TZ: "UTC",
  };
  let tail = "";
  const code = await new Promise<number | string>((resolve, reject) => {
    // Ctrl-C between the build's start and here: the abort listener below would never fire.
    if (ctx.signal.aborted) return reject(new Error("interrupted"));
    const child = spawn("bash", ["-c", BASH_PRELUDE + script], { cwd: workDir, env: fullEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const onData = (chunk: Buffer): void => {
      ctx.log(chunk);
      tail = (tail + chunk.toString()).slice(-8192);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      killTimer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, KILL_GRACE_MS);
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", reject);
    // When bash exits, whatever it left running in the background is stopped (as Nix does): a
    // straggler would keep the log pipes open, and the build waiting for it, for as long as it lives.
    child.on("exit", () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // no process of the group is left
      }
    });
    child.on("close", (exitCode, signal) => {
      ctx.signal.removeEventListener("abort", onAbort);
      if (killTimer !== undefined) clearTimeout(killTimer);
      resolve(exitCode ?? signal ?? "unknown");
    });
  });
  if (code === 0) return;
  ctx.signal.throwIfAborted();
  const lines = tail.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  // The raw lines: reporters quote them and say where the full log is (the failure event carries its path).
  const last = lines.slice(-TAIL_LINES).join("\n");
  const detail = last === "" ? undefined : last;
  if (/No space left on device/.test(tail)) {
    throw new StoreError("no-space", `${ctx.label}: no space left on device while building; free some space (or run \`makes gc\`) and try again`, { detail });
  }
  const how = typeof code === "number" ? `exited with code ${code}` : `was killed by ${code}`;
  throw new BuildError("builder-failed", `${ctx.label}: the builder ${how}${detail === undefined ? " and printed nothing" : ""}`, { detail });
}
