/**
 * OCI layer benchmarks, each against its baseline in the same run:
 *  (a) one layer of a ~500 MB tree of real files vs `tar --sort=name -cf - DIR | gzip -6 | sha256sum`;
 *  (a2) the same tree as two layers compressed at once vs the two baselines one after the other;
 *  (b) an image rebuilt after changing only a small layer vs its cold build (layer cache);
 *  (c) peak RSS of a process that writes the one big layer (must stay < 300 MB).
 * Run (after `npm run build`): node --conditions=source --import tsx bench/oci-layer.ts [SOURCE_DIR]   (default /usr/share)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";

// The writer runs in a fresh plain-node process on the compiled packages (what the CLI runs, without tsx's
// own ~35 MB), so its maxRSS is this work's peak only.
const childScript = new URL("./oci-layer-child.mjs", import.meta.url).pathname;

const source = process.argv[2] ?? "/usr/share";
const work = mkdtempSync(join(tmpdir(), "makes-bench-oci-"));
try {
  const tree = join(work, "tree");
  execFileSync("cp", ["-a", `${source}/.`, tree]);
  // make two halves of the same tree for the two-layer runs
  const halves = [join(work, "half0"), join(work, "half1")];
  for (const h of halves) mkdirSync(h);
  const top = readdirSync(tree).sort();
  top.forEach((name, i) => renameSync(join(tree, name), join(halves[i % 2] as string, name)));
  const sizeMB = Number(execFileSync("du", ["-sm", work]).toString().split("\t")[0]);
  const files = Number(execFileSync("bash", ["-c", `find ${work} -type f | wc -l`]).toString());
  execFileSync("bash", ["-c", `tar -cf - ${work} > /dev/null`]); // warm the page cache for both sides

  const time = (fn: () => void): number => {
    const s = performance.now();
    fn();
    return performance.now() - s;
  };
  const baseline = (dirs: string[]): number =>
    time(() => {
      for (const d of dirs) execFileSync("bash", ["-c", `set -o pipefail; tar --sort=name -C ${d} -cf - . | gzip -6 | sha256sum > /dev/null`]);
    });
  const child = (mode: string, out: string, cache: string, dirs: string[]): { ms: number; maxRssMB: number; extra: unknown } => {
    const r = spawnSync(process.execPath, [childScript, mode, out, cache, ...dirs], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as { ms: number; maxRssMB: number; extra: unknown };
  };

  const runs = 2;
  const rows: string[] = [];
  let bestBase = Infinity;
  let bestOurs = Infinity;
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    bestBase = Math.min(bestBase, baseline(halves));
    const r = child("layer", join(work, `one-${i}.tgz`), "", halves);
    bestOurs = Math.min(bestOurs, r.ms);
    rss = Math.max(rss, r.maxRssMB);
    rmSync(join(work, `one-${i}.tgz`));
  }
  rows.push(`| (a) one layer, ${sizeMB} MB, ${files} files | ${(bestOurs / 1000).toFixed(2)} s | ${(bestBase / 1000).toFixed(2)} s | ${(bestOurs / bestBase).toFixed(2)} |`);

  let bestTwo = Infinity;
  for (let i = 0; i < runs; i++) {
    const r = child("image", join(work, `img2-${i}`), join(work, `cache2-${i}`), halves);
    bestTwo = Math.min(bestTwo, r.ms);
    rss = Math.max(rss, r.maxRssMB);
  }
  rows.push(`| (a2) same tree as 2 layers, concurrency 2 | ${(bestTwo / 1000).toFixed(2)} s | ${(bestBase / 1000).toFixed(2)} s (2 pipelines in sequence) | ${(bestTwo / bestBase).toFixed(2)} |`);

  const small = join(work, "small");
  mkdirSync(join(small, "working-dir"), { recursive: true });
  writeFileSync(join(small, "working-dir/my-file"), "v1\n");
  const cold = child("image", join(work, "img-cold"), join(work, "cache-b"), [...halves, small]);
  writeFileSync(join(small, "working-dir/my-file"), "v2\n");
  renameSync(small, join(work, "small2")); // a new store path, as a changed builder gives
  const warm = child("image", join(work, "img-warm"), join(work, "cache-b"), [...halves, join(work, "small2")]);
  rows.push(`| (b) rebuild after changing the small layer (${JSON.stringify(warm.extra)}) | ${(warm.ms / 1000).toFixed(3)} s | ${(cold.ms / 1000).toFixed(2)} s (cold) | ${((100 * warm.ms) / cold.ms).toFixed(2)} % |`);
  rows.push(`| (c) peak RSS of the writing process | ${rss.toFixed(0)} MB | limit 300 MB | ${rss < 300 ? "ok" : "OVER"} |`);

  console.log(`OCI layer benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, source ${source}, best of ${runs}`);
  console.log("| benchmark | makes | baseline | ratio |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  rmSync(work, { recursive: true, force: true });
}
