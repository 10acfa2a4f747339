import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildError, type BuildContext } from "@makes/core";
import { MAX_ARG_STRLEN } from "./env-size.js";
import { runBash } from "./run-bash.js";

/** A build context with only what runBash uses: a private directory, $out, a log kept in memory. */
async function context(t: { after: (fn: () => unknown) => void }): Promise<BuildContext & { logged: () => string }> {
  const dir = await mkdtemp(join(tmpdir(), "makes-run-bash-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, "tmp"));
  const chunks: string[] = [];
  const ctx = {
    out: join(dir, "out"),
    tmpDir: join(dir, "tmp"),
    label: "/job",
    logPath: join(dir, "log"),
    signal: new AbortController().signal,
    log: (chunk: string | Buffer) => void chunks.push(chunk.toString()),
    logged: () => chunks.join(""),
  };
  return ctx as unknown as BuildContext & { logged: () => string };
}

test("a builder of 300 KB runs: the text is not an argument, so MAX_ARG_STRLEN does not apply", async (t) => {
  const ctx = await context(t);
  const filler = `: ${"x".repeat(100)}\n`.repeat(3000);
  assert.ok(filler.length > 2 * MAX_ARG_STRLEN);
  await runBash(ctx, `${filler}mkdir "$out" && echo done > "$out/file"`, {}, []);
  assert.equal(await readFile(join(ctx.out, "file"), "utf8"), "done\n");
});

test("the builder sees what `bash -c TEXT` showed it: $0, no arguments, strict options, umask, empty stdin, its own line numbers", async (t) => {
  const ctx = await context(t);
  const builder = [
    `mkdir "$out"`,
    `echo "$0 $#" > "$out/args"`,
    `echo "$-" > "$out/flags"`,
    `set -o | grep -E '^(errexit|nounset|pipefail)' | tr -s ' \\t' ' ' > "$out/options"`,
    `umask > "$out/umask"`,
    `cat > "$out/stdin"`,
    `echo "$LINENO" > "$out/line"`,
  ].join("\n");
  await runBash(ctx, builder, { GREETING: "hi" }, []);
  const read = (name: string) => readFile(join(ctx.out, name), "utf8");
  assert.equal(await read("args"), "bash 0\n");
  assert.equal(await read("options"), "errexit on\nnounset on\npipefail on\n");
  assert.equal(await read("umask"), "0022\n");
  assert.equal(await read("stdin"), "");
  assert.equal(await read("line"), "7\n", "line numbers count from the first line of the builder");
});

test("errexit still stops the builder at the first failing command", async (t) => {
  const ctx = await context(t);
  await assert.rejects(runBash(ctx, `echo before\nfalse\necho after`, {}, []), (err: unknown) => {
    assert.ok(err instanceof BuildError);
    assert.equal(err.reason, "builder-failed");
    return true;
  });
  assert.match(ctx.logged(), /before/);
  assert.doesNotMatch(ctx.logged(), /after/);
});

test("an environment too large in total is a one-line build failure naming the job, not a spawn error", async (t) => {
  const ctx = await context(t);
  // Each value is under MAX_ARG_STRLEN; together they are over any stack limit's quarter (8 MiB → 2 MiB).
  const env = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`V${i}`, "a".repeat(100_000)]));
  await assert.rejects(runBash(ctx, "mkdir $out", env, []), (err: unknown) => {
    assert.ok(err instanceof BuildError, String(err));
    assert.equal(err.reason, "environment-too-large");
    assert.match(err.message, /^\/job: cannot start the builder: its environment is too large \(\d+ bytes in \d+ variables/);
    assert.match(err.message, /write big values to files/);
    assert.ok(!err.message.includes("\n"));
    return true;
  });
});

test("one variable that is over MAX_ARG_STRLEN at spawn is named", async (t) => {
  const ctx = await context(t);
  await assert.rejects(runBash(ctx, "mkdir $out", { BIG: "a".repeat(MAX_ARG_STRLEN) }, []), (err: unknown) => {
    assert.ok(err instanceof BuildError, String(err));
    assert.match(err.message, /^\/job: cannot start the builder: env\.BIG is 131072 bytes long/);
    return true;
  });
});
