// Runs the quick benchmarks one after another (each measures its own baseline in the same run).
// The slow ones are run on their own: bench/orchestration.mjs (1,000 jobs against Turborepo),
// bench/oci-layer.ts (500 MB layer against tar | gzip), bench/image-rebuild.mjs, bench/watch-latency.mjs.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

for (const script of ["noop-run.mjs", "watch-latency.mjs"]) {
  console.log(`\n== ${script}`);
  const r = spawnSync(process.execPath, [join(import.meta.dirname, script)], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = 1;
}
