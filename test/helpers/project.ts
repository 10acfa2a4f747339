/**
 * Shared by the end-to-end tests: fixture projects in fresh temporary directories, and the REAL makes
 * CLI (the compiled bin, as a user runs it) spawned on them.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..");
export const MAKES_BIN = join(REPO, "packages", "cli", "bin", "makes.js");

/** A file of a fixture: its text, or text with a mode, or a symlink. */
export type FixtureFile = string | { readonly content: string | Buffer; readonly mode?: number } | { readonly symlink: string };

interface TestContext {
  after(fn: () => unknown): void;
}

/** A fresh temporary directory, removed after the test (pass the test context) unless MAKES_KEEP_TMP is set. */
export async function tempDir(t: TestContext | undefined, prefix = "makes-e2e-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (t !== undefined && process.env.MAKES_KEEP_TMP === undefined) t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (project-relative path → content) under `dir`. */
export async function writeFiles(dir: string, files: Readonly<Record<string, FixtureFile>>): Promise<void> {
  for (const [rel, file] of Object.entries(files)) {
    const abs = join(dir, rel);
    await mkdir(dirname(abs), { recursive: true });
    await rm(abs, { force: true });
    if (typeof file === "string") {
      await writeFile(abs, file);
    } else if ("symlink" in file) {
      await symlink(file.symlink, abs);
    } else {
      await writeFile(abs, file.content);
      if (file.mode !== undefined) await chmod(abs, file.mode);
    }
  }
}

/** A fixture project in a fresh temporary directory. */
export async function makeProject(t: TestContext | undefined, files: Readonly<Record<string, FixtureFile>>): Promise<string> {
  const dir = await tempDir(t);
  await writeFiles(dir, files);
  return dir;
}

export interface MakesResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Added to (or, with `undefined` values, removed from) the environment makes runs with. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  /** Runs makes as this user and group id (the test must be root to ask). */
  readonly uid?: number;
}

/** The environment makes runs with: the test's own, minus what would change makes's behaviour. */
function makesEnv(extra: RunOptions["env"]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1" };
  for (const name of ["MAKES_STORE", "NODE_TEST_CONTEXT", "NODE_OPTIONS", "FORCE_COLOR"]) delete env[name];
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `makes <args>` in `cwd` without waiting (for tests that kill it or race two of them). */
export function spawnMakes(cwd: string, args: readonly string[], options: RunOptions = {}): ChildProcess {
  const as = options.uid === undefined ? {} : { uid: options.uid, gid: options.uid };
  return spawn(process.execPath, [MAKES_BIN, ...args], { cwd, env: makesEnv(options.env), stdio: ["ignore", "pipe", "pipe"], ...as });
}

/** Collects a started makes process's output and exit. */
export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<MakesResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`makes did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `makes <args>` in `cwd` to completion. */
export function runMakes(cwd: string, args: readonly string[], options: RunOptions = {}): Promise<MakesResult> {
  return finished(spawnMakes(cwd, args, options), options.timeoutMs);
}

/** For assertion messages: everything makes printed. */
export function shown(r: MakesResult): string {
  return `exit ${String(r.code)}${r.signal === null ? "" : ` (${r.signal})`}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

/** The lines of stdout, without the empty last one. */
export function stdoutLines(r: MakesResult): string[] {
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** The events of `--reporter json` (one JSON object per stderr line). */
export function jsonEvents(r: MakesResult): Array<Record<string, unknown> & { type: string }> {
  return r.stderr
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown> & { type: string };
      } catch {
        throw new Error(`--reporter json printed a line that is not JSON: ${l}`);
      }
    });
}

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A makes.ts whose default export is a function of the builders; `body` is the function's body. */
export function makesTs(body: string): string {
  return `import type { MakesArgs } from "@makes/core";\n\nexport default ({ makeDerivation, makeScript, projectPath }: MakesArgs) => {\n${body}\n};\n`;
}

/**
 * Mounts a tmpfs with `options` (`size=1m`, `size=64k,nr_inodes=40`) at the existing directory `dir`, for the
 * full-disk and read-only cases; where the run may not mount (no root or CAP_SYS_ADMIN) the test is skipped,
 * saying why, and false is returned. The caller unmounts, before its temporary directories are removed.
 */
export function tryMountTmpfs(t: { skip(message: string): void }, dir: string, options: string, what: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
    return true;
  } catch (err) {
    t.skip(`cannot mount a tmpfs here (${String((err as Error).message).split("\n")[0]}); ${what} needs root or CAP_SYS_ADMIN`);
    return false;
  }
}

export { processAlive } from "@makes/core";
