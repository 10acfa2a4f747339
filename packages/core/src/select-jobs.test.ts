import { test } from "node:test";
import assert from "node:assert/strict";
import { closestNames } from "./closest-names.js";
import { UsageError } from "./errors.js";
import { jobGlob, selectJobs } from "./select-jobs.js";

const JOBS = ["/packages/web/build", "/packages/web/test", "/packages/api/build", "/packages/api/deep/build", "/lint", "/site", "/a.b"];

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a UsageError");
}

test("a name selects exactly that job", () => {
  assert.deepEqual(selectJobs(["/lint"], JOBS), ["/lint"]);
});

test("* matches within one segment, ** across segments, ? one character", () => {
  assert.deepEqual(selectJobs(["/packages/*/build"], JOBS), ["/packages/api/build", "/packages/web/build"]);
  assert.deepEqual(selectJobs(["/packages/**/build"], JOBS), ["/packages/api/build", "/packages/api/deep/build", "/packages/web/build"]);
  assert.deepEqual(selectJobs(["/packages/web/*"], JOBS), ["/packages/web/build", "/packages/web/test"]);
  assert.deepEqual(selectJobs(["/s?te"], JOBS), ["/site"]);
  assert.equal(jobGlob("/*").test("/packages/web"), false, "* does not cross /");
  assert.equal(jobGlob("/?").test("//"), false, "? does not match /");
});

test("glob characters other than * and ? are literal", () => {
  assert.deepEqual(selectJobs(["/a.b"], JOBS), ["/a.b"]);
  assert.equal(jobGlob("/a.*").test("/aXb"), false, "a dot is not any character");
  assert.equal(jobGlob("/a.*").test("/a.b"), true);
  assert.equal(jobGlob("/(x)*").test("/(x)y"), true);
});

test("several patterns: the order given, each job once", () => {
  assert.deepEqual(selectJobs(["/site", "/packages/web/*", "/packages/web/build", "/lint"], JOBS), ["/site", "/packages/web/build", "/packages/web/test", "/lint"]);
});

test("an unknown name is a usage error listing the closest names", () => {
  const err = usageError(() => selectJobs(["/packages/web/biuld"], JOBS));
  assert.equal(err.reason, "unknown-job");
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /"\/packages\/web\/biuld"/);
  assert.match(err.message, /closest: \/packages\/web\/build/);
});

test("a glob that matches nothing is a usage error", () => {
  const err = usageError(() => selectJobs(["/nothing/*"], JOBS));
  assert.equal(err.reason, "no-match");
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /No job matches "\/nothing\/\*"/);
});

test("a name without the leading slash says to add it", () => {
  const err = usageError(() => selectJobs(["lint"], JOBS));
  assert.match(err.message, /"\/lint"/);
});

test("with no jobs at all, the message says so", () => {
  const err = usageError(() => selectJobs(["/x"], []));
  assert.match(err.message, /no jobs/);
});

test("closestNames: best first, at most count, case-insensitive", () => {
  assert.deepEqual(closestNames("/sit", JOBS, 1), ["/site"]);
  assert.deepEqual(closestNames("/LINT", JOBS, 1), ["/lint"]);
  assert.equal(closestNames("/x", JOBS).length, 3);
  assert.deepEqual(closestNames("/packages/web/tset", JOBS, 2), ["/packages/web/test", "/packages/web/build"]);
  assert.deepEqual(closestNames("/anything", []), []);
  // in a monorepo, the jobs that contain what was typed come before short unrelated names
  assert.deepEqual(closestNames("/build", JOBS, 2), ["/packages/api/build", "/packages/api/deep/build"]);
  assert.deepEqual(closestNames("/web/build", JOBS, 1), ["/packages/web/build"]);
});
