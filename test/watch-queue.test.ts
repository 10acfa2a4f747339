// Unit tests of watch mode's scheduling (debounce, one queued iteration), without files or processes.
// Iterations are held open by hand (gates), so the tests do not depend on how fast the machine is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IterationQueue } from "../packages/cli/src/watch-queue.ts";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An iterate function whose calls are recorded and end only when their gate is opened. */
function gated() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  let running = 0;
  let overlapped = false;
  const iterate = (changed: ReadonlySet<string>): Promise<void> => {
    running++;
    if (running > 1) overlapped = true;
    batches.push([...changed].sort());
    return new Promise<void>((resolve) =>
      gates.push(() => {
        running--;
        resolve();
      }),
    );
  };
  const open = (i: number): void => gates[i]?.();
  const until = async (n: number): Promise<void> => {
    for (let waited = 0; batches.length < n; waited += 5) {
      if (waited > 5000) assert.fail(`expected ${n} iterations, saw ${JSON.stringify(batches)}`);
      await sleep(5);
    }
  };
  return { batches, iterate, open, until, overlapped: () => overlapped };
}

test("a burst of changes closer together than the debounce is one iteration", async () => {
  const g = gated();
  const q = new IterationQueue(g.iterate, 100);
  for (let i = 0; i < 20; i++) {
    q.notify(`f${i % 5}`);
    await sleep(1);
  }
  assert.equal(g.batches.length, 0, "nothing runs before the quiet period");
  await g.until(1);
  g.open(0);
  await sleep(150);
  assert.deepEqual(g.batches, [["f0", "f1", "f2", "f3", "f4"]]);
  await q.close();
});

test("changes during an iteration become exactly one queued iteration, never a concurrent one", async () => {
  const g = gated();
  const q = new IterationQueue(g.iterate, 10);
  q.notify("a");
  await g.until(1);
  q.notify("b");
  await sleep(40); // b's quiet period ends while the first iteration still runs
  q.notify("c");
  q.notify("d");
  await sleep(40);
  assert.equal(g.batches.length, 1);
  g.open(0);
  await g.until(2);
  assert.deepEqual(g.batches, [["a"], ["b", "c", "d"]]);
  g.open(1);
  await sleep(40);
  assert.equal(g.batches.length, 2);
  assert.equal(g.overlapped(), false);
  await q.close();
});

test("runNow starts at once, or after the running iteration; close waits for it and drops what is pending", async () => {
  const g = gated();
  const q = new IterationQueue(g.iterate, 10);
  q.runNow();
  q.runNow();
  assert.equal(q.running, true);
  assert.equal(g.batches.length, 1);
  g.open(0);
  await g.until(2);
  assert.deepEqual(g.batches, [[], []]);
  g.open(1);
  q.notify("late");
  await g.until(3);
  q.notify("dropped");
  let closed = false;
  const closing = q.close().then(() => (closed = true));
  await sleep(20);
  assert.equal(closed, false, "close waits for the running iteration");
  g.open(2);
  await closing;
  await sleep(40);
  assert.deepEqual(g.batches, [[], [], ["late"]]);
});

test("an iteration that throws is reported and the queue goes on", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const q = new IterationQueue(
    async () => {
      calls++;
      if (calls === 1) throw new Error("boom");
    },
    5,
    (err) => errors.push(err),
  );
  q.notify("x");
  for (let i = 0; i < 200 && calls < 1; i++) await sleep(5);
  await sleep(20);
  q.notify("y");
  for (let i = 0; i < 200 && calls < 2; i++) await sleep(5);
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
  await q.close();
});
