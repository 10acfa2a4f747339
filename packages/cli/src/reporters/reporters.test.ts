import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MakesEvent, NodeInfo } from "@makes/core";
import { JsonReporter } from "./json-reporter.js";
import { PlainReporter } from "./plain-reporter.js";
import { TerminalReporter } from "./terminal-reporter.js";

/** A real log file: the text reporters name a log only when it exists (a failure before the build has none). */
function logFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "makes-reporter-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "h.log");
  writeFileSync(path, "log\n");
  return path;
}

function node(label: string, name = label.slice(1)): NodeInfo {
  return { hash: "0".repeat(32), name, kind: "image", label, path: `/s/store/${"0".repeat(32)}-${name}` };
}

/** What a plain reporter prints for these events. */
function plain(events: readonly MakesEvent[], options: { dryRun?: boolean } = {}): string {
  let out = "";
  const reporter = new PlainReporter((t) => (out += t), options);
  for (const e of events) reporter.onEvent(e);
  return out;
}

const FINISHED = { type: "run-finished", built: 0, cached: 2, failed: 0, skipped: 13, durationMs: 5 } as const;

test("a failure line starts with the job's label, also when the message names a package or nothing", () => {
  const cases: Array<[MakesEvent, string]> = [
    [{ type: "node-failed", node: node("/ififo", "fifo-image"), message: "fifo contains a fifo at /run/f" }, "failed   /ififo: fifo contains a fifo at /run/f\n"],
    [{ type: "node-failed", node: node("/islf"), message: "sl (/s/store/x-sl) is not a directory" }, "failed   /islf: sl (/s/store/x-sl) is not a directory\n"],
    [{ type: "node-failed", node: node("/big"), message: "No space left on device while locking /big in the store" }, "failed   /big: No space left on device while locking /big in the store\n"],
    // not doubled when the message already starts with it
    [{ type: "node-failed", node: node("/fails"), message: "/fails: the builder exited with code 3" }, "failed   /fails: the builder exited with code 3\n"],
    // a label that is a prefix of the message's first word is not the label
    [{ type: "node-failed", node: node("/a"), message: "/ab: the builder exited with code 1" }, "failed   /a: /ab: the builder exited with code 1\n"],
  ];
  for (const [event, line] of cases) assert.equal(plain([event]), line);
});

test("a failure's raw detail is quoted line by line by the text reporters, and the full log is named once", (t) => {
  const log = logFile(t);
  const event: MakesEvent = { type: "node-failed", node: node("/fails"), message: "/fails: the builder exited with code 3", detail: "line 1\nline 2", logPath: log };
  assert.equal(plain([event]), `failed   /fails: the builder exited with code 3\n  | line 1\n  | line 2\n  full log: ${log}\n`);
  let json = "";
  new JsonReporter((t) => (json += t)).onEvent(event);
  const parsed = JSON.parse(json) as { detail: string; logPath: string };
  assert.equal(parsed.detail, "line 1\nline 2", "the JSON event carries the detail as it is, without the text reporters' prefixes");
  assert.equal(parsed.logPath, log);
});

test("a dry run's summary says what would be built, not that it was not built", () => {
  assert.equal(plain([FINISHED], { dryRun: true }), "makes: dry run: 13 would be built, 2 cached in 5ms\n");
  assert.equal(plain([FINISHED]), "makes: 0 built, 2 cached, 0 failed, 13 not built in 5ms\n");
});

/** A terminal of `columns` columns (0: a pty whose size was never set) that records what is written. */
function terminal(columns: number | undefined): { stream: NodeJS.WriteStream; written: () => string } {
  let out = "";
  const stream = { columns, write: (t: string) => ((out += t), true) } as unknown as NodeJS.WriteStream;
  // without the cursor movements of the redraws
  return { stream, written: () => out.replace(/\x1b\[\d*[AJ]/g, "") };
}

test("the terminal reporter does not clip lines on a terminal that reports 0 columns", () => {
  for (const columns of [0, undefined]) {
    const { stream, written } = terminal(columns);
    const reporter = new TerminalReporter(stream);
    const label = "/packages/core-api/test";
    reporter.onEvent({ type: "run-started", jobs: [label], total: 1, concurrency: 1 });
    reporter.onEvent({ type: "node-started", node: node(label) });
    reporter.close();
    assert.match(written(), /⠿ \/packages\/core-api\/test \d+ms/, `columns ${String(columns)}:\n${written()}`);
  }
  const { stream, written } = terminal(20);
  const reporter = new TerminalReporter(stream);
  reporter.onEvent({ type: "run-started", jobs: ["/packages/core-api/test"], total: 1, concurrency: 1 });
  reporter.onEvent({ type: "node-started", node: node("/packages/core-api/test") });
  reporter.close();
  assert.match(written(), /⠿ \/packages\/core-\n/, "a real width still clips (to one column less)");
});

test("the terminal reporter's failure lines and dry-run summary are the plain reporter's", (t) => {
  const log = logFile(t);
  const { stream, written } = terminal(100);
  const reporter = new TerminalReporter(stream, { dryRun: true });
  reporter.onEvent({ type: "run-started", jobs: ["/ififo"], total: 1, concurrency: 1 });
  reporter.onEvent({ type: "node-failed", node: node("/ififo", "fifo"), message: "fifo contains a fifo at /run/f", detail: "x", logPath: log });
  reporter.onEvent(FINISHED);
  assert.ok(written().includes(`\nfailed   /ififo: fifo contains a fifo at /run/f\n  | x\n  full log: ${log}\n`), written());
  assert.match(written(), /^makes: dry run: 13 would be built, 2 cached in 5ms$/m);
});
