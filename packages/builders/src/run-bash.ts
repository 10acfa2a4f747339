import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError, StoreError, type BuildContext, makeDirs } from "@makes/core";
import { envStringBytes, MAX_ARG_STRLEN } from "./env-size.js";
import { envField } from "./node-values.js";
import { shellQuote } from "./shell-quote.js";

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
 *
 * The script is a file of the build's private directory that `bash -c` sources, never an argument:
 * Linux refuses an argv or env string over MAX_ARG_STRLEN (128 KiB) with E2BIG, and a builder may be
 * any size. Sourcing from `-c` keeps what the builder sees as it was with `bash -c SCRIPT`: `$0` is
 * `bash`, there are no positional parameters, stdin is empty; and line numbers in bash's messages are
 * those of the builder text, as the prelude is not in the file.
 */
export async function runBash(ctx: BuildContext, script: string, env: Record<string, string>, pathDirs: readonly string[]): Promise<void> {
  const workDir = join(ctx.tmpDir, "build");
  const tmp = join(ctx.tmpDir, "tmp");
  await makeDirs(workDir);
  await makeDirs(tmp);
  const scriptFile = join(ctx.tmpDir, "builder.sh");
  await writeFile(scriptFile, script, { mode: 0o400 });
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
    const argv = ["-c", `${BASH_PRELUDE}. ${shellQuote(scriptFile)}\n`];
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn("bash", argv, { cwd: workDir, env: fullEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      return reject((err as NodeJS.ErrnoException).code === "E2BIG" ? environmentTooLarge(ctx.label, fullEnv, argv) : err);
    }
    const onData = (chunk: Buffer): void => {
      ctx.log(chunk);
      tail = (tail + chunk.toString()).slice(-8192);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
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

/**
 * E2BIG at spawn. checkEnv refuses any one variable over MAX_ARG_STRLEN while makes.ts is evaluated, so
 * what is left is a value that grew past it when its store paths were put in, or the total: Linux gives
 * argv and the environment together about a quarter of the stack limit (`ulimit -s`).
 */
function environmentTooLarge(label: string, env: Record<string, string>, argv: readonly string[]): BuildError {
  const sizes = Object.entries(env).map(([k, v]) => ({ key: k, value: Buffer.byteLength(v), bytes: envStringBytes(k, v) }));
  const over = sizes.find((s) => s.bytes > MAX_ARG_STRLEN);
  if (over !== undefined) {
    return new BuildError(
      "environment-too-large",
      `${label}: cannot start the builder: ${envField(over.key)} is ${over.value} bytes long with its store paths put in, over the ${MAX_ARG_STRLEN} bytes Linux allows one environment variable with its name; write the value to a file (a derivation) and pass its path instead`,
    );
  }
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0) + argv.reduce((sum, a) => sum + Buffer.byteLength(a) + 1, 0);
  return new BuildError(
    "environment-too-large",
    `${label}: cannot start the builder: its environment is too large (${total} bytes in ${sizes.length} variables; Linux allows all of them together about a quarter of the stack limit, \`ulimit -s\`); write big values to files (derivations) and pass their paths instead`,
  );
}
