import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { StoreError } from "./errors.js";
import { Store } from "./store.js";
import type { StoreMeta } from "./store-meta.js";

const HASH = "0123456789abcdfghijklmnpqrsvwxyz";
const OTHER = "zyxwvsrqpnmlkjihgfdcba9876543210";

async function newStore(t: { after: (fn: () => Promise<void>) => void }): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), "makes-store-test-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new Store(join(dir, ".makes"));
  await store.init();
  return store;
}

function metaFor(hash: string, name: string): StoreMeta {
  return {
    format: 1,
    hash,
    name,
    kind: "derivation",
    label: `/${name}`,
    contentDigest: "d".repeat(64),
    size: 1,
    builtAt: new Date().toISOString(),
    durationMs: 1,
    deps: [],
    runtimeDeps: [],
    inputs: {},
    depLabels: {},
  };
}

async function tempOutput(store: Store, content: string): Promise<string> {
  const tmp = await store.makeTempDir("test");
  const out = join(tmp, "out");
  await mkdir(out);
  await writeFile(join(out, "file"), content);
  return out;
}

test("install moves the output into place, then writes the metadata that makes it valid", async (t) => {
  const store = await newStore(t);
  assert.equal(await store.validMeta(HASH, "x"), undefined, "nothing is valid in an empty store");
  const out = await tempOutput(store, "hello");
  const final = await store.install(out, metaFor(HASH, "x"));
  assert.equal(final, store.layout.storePath(HASH, "x"));
  assert.equal(await readFile(join(final, "file"), "utf8"), "hello");
  assert.equal(existsSync(out), false, "the temporary output was renamed, not copied");
  assert.equal((await store.validMeta(HASH, "x"))?.hash, HASH);
  assert.deepEqual((await readdir(store.layout.metaDir)).filter((f) => f.endsWith(".tmp")), [], "no temporary metadata left");
});

test("install: when the output cannot be moved into place, no metadata is written", async (t) => {
  const store = await newStore(t);
  const out = await tempOutput(store, "hello");
  // store/ replaced by a file: the rename into store/<hash>-x fails
  await rm(store.layout.storeDir, { recursive: true });
  await writeFile(store.layout.storeDir, "not a directory");
  await assert.rejects(store.install(out, metaFor(HASH, "x")));
  assert.equal(existsSync(store.layout.metaPath(HASH)), false, "metadata written before the output was in place");
  assert.equal(await store.readMeta(HASH), undefined);
});

test("install: when the metadata cannot be written, the path is not valid", async (t) => {
  const store = await newStore(t);
  const out = await tempOutput(store, "hello");
  await rm(store.layout.metaDir, { recursive: true });
  await writeFile(store.layout.metaDir, "not a directory");
  await assert.rejects(store.install(out, metaFor(HASH, "x")));
  assert.ok(existsSync(store.layout.storePath(HASH, "x")), "the output itself was moved (metadata is the last step)");
  assert.equal(await store.validMeta(HASH, "x"), undefined);
});

test("a store path without metadata is not valid, and the next install replaces it", async (t) => {
  const store = await newStore(t);
  const leftover = store.layout.storePath(HASH, "x");
  await mkdir(leftover, { recursive: true });
  await writeFile(join(leftover, "file"), "half written");
  assert.equal(await store.validMeta(HASH, "x"), undefined);
  const release = await store.lock(HASH, "x");
  assert.notEqual(release, "done", "a path without metadata must be built, not reported done");
  if (release === "done") return;
  const final = await store.install(await tempOutput(store, "complete"), metaFor(HASH, "x"));
  await release();
  assert.equal(await readFile(join(final, "file"), "utf8"), "complete");
  assert.ok(await store.validMeta(HASH, "x"));
});

test("validMeta is false once the output was deleted, even though the metadata is still there", async (t) => {
  const store = await newStore(t);
  const final = await store.install(await tempOutput(store, "x"), metaFor(HASH, "x"));
  assert.ok(await store.validMeta(HASH, "x"));
  await rm(final, { recursive: true });
  assert.ok(await store.readMeta(HASH), "metadata still there");
  assert.equal(await store.validMeta(HASH, "x"), undefined);
  assert.equal(await store.validMeta(HASH, "other-name"), undefined, "a different name is a different path");
});

test("the lock: of two concurrent acquirers one builds, the other waits and gets done", async (t) => {
  const store = await newStore(t);
  let settled = 0;
  const acquirers = [store.lock(HASH, "x"), store.lock(HASH, "x")].map((p, index) =>
    p.then((result) => {
      settled++;
      return { index, result };
    }),
  );
  const winner = await Promise.race(acquirers);
  assert.equal(typeof winner.result, "function", "one acquirer holds the lock");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(settled, 1, "the other acquirer waits while the build runs");
  await store.install(await tempOutput(store, "built once"), metaFor(HASH, "x"));
  if (typeof winner.result === "function") await winner.result();
  const loser = await acquirers[1 - winner.index];
  assert.equal(loser?.result, "done");
  assert.equal(existsSync(store.layout.lockPath(HASH)), false, "the lock file is gone after release");
});

test("the lock: released without an output (a failed build), the waiter gets the lock and builds", async (t) => {
  const store = await newStore(t);
  const first = await store.lock(HASH, "x");
  assert.equal(typeof first, "function");
  const second = store.lock(HASH, "x");
  await new Promise((r) => setTimeout(r, 100));
  if (typeof first === "function") await first();
  const next = await second;
  assert.equal(typeof next, "function", "a failed build leaves nothing done: the next one builds");
  if (typeof next === "function") await next();
});

test("the lock: locks of different hashes do not wait for each other", async (t) => {
  const store = await newStore(t);
  const a = await store.lock(HASH, "x");
  const b = await Promise.race([store.lock(OTHER, "y"), new Promise((r) => setTimeout(() => r("timeout"), 1000))]);
  assert.equal(typeof a, "function");
  assert.equal(typeof b, "function");
});

test("the lock: a lock left by a dead process is taken over", async (t) => {
  const store = await newStore(t);
  const dead = spawnSync("true").pid;
  assert.ok(dead !== undefined && dead > 0);
  await writeFile(store.layout.lockPath(HASH), `${dead} ${hostname()}`);
  const release = await Promise.race([store.lock(HASH, "x"), new Promise((r) => setTimeout(() => r("timeout"), 3000))]);
  assert.equal(typeof release, "function", "the stale lock was not taken over");
});

test("the lock: waiting ends with the abort signal", async (t) => {
  const store = await newStore(t);
  await writeFile(store.layout.lockPath(HASH), `${process.pid} ${hostname()}`); // held by a live process: us
  const controller = new AbortController();
  const waiting = store.lock(HASH, "x", controller.signal);
  setTimeout(() => controller.abort(new Error("stop")), 100);
  await assert.rejects(waiting, /stop/);
});

test("writing to a full or read-only store gives a StoreError a user can act on", async () => {
  const { storeErrorFrom } = await import("./errors.js");
  const full = storeErrorFrom(Object.assign(new Error("ENOSPC"), { code: "ENOSPC" }), "writing x");
  assert.ok(full instanceof StoreError);
  assert.match((full as StoreError).message, /no space left/i);
  assert.equal((full as StoreError).exitCode, 1);
  const other = new Error("something else");
  assert.equal(storeErrorFrom(other, "x"), other, "other errors are passed through unchanged");
});
