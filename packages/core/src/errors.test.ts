import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StoreError, storeErrorFrom } from "./errors.js";

function fsError(code: string, fields: Record<string, string> = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something`), { code, ...fields });
}

test("a read-only store says so and names --store DIR, not 'permission denied'", () => {
  const err = storeErrorFrom(fsError("EROFS", { path: "/mnt/ro/locks/x.lock" }), "locking /a in the store");
  assert.ok(err instanceof StoreError);
  assert.equal(err.reason, "read-only");
  assert.match(err.message, /^The store is on a read-only file system \(\/mnt\/ro\/locks\/x\.lock\) while locking \/a in the store; .*--store DIR/);
  assert.doesNotMatch(err.message, /Permission denied/);
});

test("a recursive mkdir's ENOENT is passed through when the nearest existing directory is writable", () => {
  const enoent = fsError("ENOENT", { syscall: "mkdir", path: join(tmpdir(), "makes-no-such", "store") });
  assert.equal(storeErrorFrom(enoent, "creating the store"), enoent);
});
