import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { mapConcurrent } from "./map-concurrent.js";

test("mapConcurrent keeps order, bounds concurrency and stops on the first failure", async () => {
  let running = 0;
  let peak = 0;
  const out = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await sleep(n * 3);
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
  const started: number[] = [];
  await assert.rejects(
    mapConcurrent([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error("boom");
      return n;
    }),
    /boom/,
  );
  assert.deepEqual(started, [1, 2]);
});
