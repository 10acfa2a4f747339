/**
 * Concurrency (issue 5, case caching 12): four `makes` processes build overlapping graphs on one store at
 * the same moment. Every node is built exactly once across the four (counted from the `node-built` events
 * of `--reporter json`), the others report it cached; all four exit 0; a job gets the same output path in
 * every process; `makes verify` is clean; no lock or temporary directory is left.
 *
 * Rounds: four job sets of one project (they also share the project directory, where each process writes
 * and deletes its temporary config bundle while the others list `projectPath("/")`), four copies of the
 * project in four directories (the same hashes wherever a checkout lives), and repeats with random start
 * offsets. 3 rounds by default, 12 with MAKES_SLOW=1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { finished, jsonEvents, makeProject, runMakes, shown, spawnMakes, stdoutLines, tempDir, type MakesResult } from "../helpers/project.ts";
import { checkStore, figures, prng, seedFromEnv, sleep, SLOW } from "./support.ts";

const MAKES_TS = `
export default ({ makeDerivation, projectPath }: any) => {
  const src = projectPath("/");
  const leaf = (name: string) =>
    makeDerivation({
      name,
      env: { src },
      builder: \`sleep 0.4; mkdir -p $out; cp -r "$src/data" $out/data; echo \${name} > $out/name; head -c 200000 /dev/zero > $out/zeros\`,
    });
  const pair = (name: string, x: unknown, y: unknown) =>
    makeDerivation({ name, env: { x, y }, builder: \`sleep 0.3; mkdir -p $out; cat "$x/name" "$y/name" > $out/names\` });
  const a = leaf("a"), b = leaf("b"), c = leaf("c");
  const ab = pair("ab", a, b), bc = pair("bc", b, c), ca = pair("ca", c, a);
  const all = makeDerivation({ name: "all", env: { ab, bc, ca }, builder: \`sleep 0.2; mkdir -p $out; cat $ab/names $bc/names $ca/names > $out/all\` });
  return { jobs: { "/a": a, "/b": b, "/c": c, "/ab": ab, "/bc": bc, "/ca": ca, "/all": all } };
};
`;

const JOB_SETS = [["/ab", "/bc"], ["/bc", "/ca"], ["/ca", "/ab"], ["/all"]];
/** The closure of the four job sets: the source tree, three leaves, three pairs and the top. */
const NODES = 8;
const ROUNDS = SLOW ? 12 : 3;

test(`four makes processes on one store build every node once (${ROUNDS} rounds)`, { timeout: SLOW ? 1_200_000 : 240_000 }, async (t) => {
  const seed = seedFromEnv();
  console.log(`concurrency seed=${seed} (replay: MAKES_RELIABILITY_SEED=${seed})`);
  const random = prng(seed);
  const work = await tempDir(t, "makes-concurrency-");
  const project = await makeProject(t, { "makes.ts": MAKES_TS, "data/readme.txt": "shared source\n", "data/nested/x.txt": "x\n" });
  const stats = { seed, rounds: 0, processes: 0, nodesBuilt: 0, cachedReports: 0, doubleBuilds: 0, failures: 0 };
  const failures: string[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    const store = join(work, `store-${round}`);
    const separateCheckouts = round % 3 === 1;
    const dirs = separateCheckouts ? await Promise.all(JOB_SETS.map(async (_, i) => {
      const copy = join(work, `checkout-${round}-${i}`);
      await cp(project, copy, { recursive: true });
      return copy;
    })) : JOB_SETS.map(() => project);
    const offsets = JOB_SETS.map(() => (round % 3 === 2 ? Math.floor(random() * 150) : 0));
    const runs: Array<Promise<MakesResult>> = JOB_SETS.map(async (jobs, i) => {
      await sleep(offsets[i] ?? 0);
      return finished(spawnMakes(dirs[i] ?? project, ["run", ...jobs, "--store", store, "--reporter", "json"]), 120_000);
    });
    const results = await Promise.all(runs);
    const where = `round ${round} (${separateCheckouts ? "four checkouts" : "one project"}, offsets ${offsets.join("/")} ms)`;
    stats.rounds++;
    stats.processes += results.length;

    const builtBy = new Map<string, number>();
    const cachedBy = new Map<string, number>();
    const pathOf = new Map<string, string>();
    for (const [i, r] of results.entries()) {
      if (r.code !== 0) failures.push(`${where}: process ${i} (${JOB_SETS[i]?.join(" ")}): ${shown(r)}`);
      for (const e of jsonEvents(r)) {
        const hash = (e.node as { hash?: string } | undefined)?.hash;
        if (hash === undefined) continue;
        if (e.type === "node-built") builtBy.set(hash, (builtBy.get(hash) ?? 0) + 1);
        if (e.type === "node-cached") cachedBy.set(hash, (cachedBy.get(hash) ?? 0) + 1);
      }
      const lines = stdoutLines(r);
      for (const [k, job] of (JOB_SETS[i] ?? []).entries()) {
        const path = lines[k] ?? "";
        const seen = pathOf.get(job);
        if (seen !== undefined && seen !== path) failures.push(`${where}: ${job} is ${seen} in one process and ${path} in another`);
        pathOf.set(job, path);
      }
    }
    if (builtBy.size !== NODES) failures.push(`${where}: ${builtBy.size} distinct nodes built, expected ${NODES}: ${JSON.stringify([...builtBy])}`);
    for (const [hash, n] of builtBy) {
      if (n !== 1) {
        stats.doubleBuilds++;
        failures.push(`${where}: ${hash} built ${n} times`);
      }
    }
    stats.nodesBuilt += [...builtBy.values()].reduce((a, b) => a + b, 0);
    stats.cachedReports += [...cachedBy.values()].reduce((a, b) => a + b, 0);

    const state = await checkStore(store);
    for (const p of state.problems) failures.push(`${where}: ${p}`);
    if (state.valid.size !== NODES) failures.push(`${where}: ${state.valid.size} valid paths, expected ${NODES}`);
    if (state.invalidPaths.length > 0) failures.push(`${where}: paths without metadata: ${state.invalidPaths.join(", ")}`);
    if (state.locksLeft.length > 0) failures.push(`${where}: locks left: ${state.locksLeft.join(", ")}`);
    if (state.tmpLeft.length > 0) failures.push(`${where}: tmp/ left: ${state.tmpLeft.join(", ")}`);
    const verify = await runMakes(project, ["verify", "--store", store]);
    if (verify.code !== 0) failures.push(`${where}: makes verify: ${shown(verify)}`);
  }
  stats.failures = failures.length;
  t.diagnostic(figures("concurrency", stats));
  assert.deepEqual(failures, []);
});

test("another process's temporary config bundle in the project does not change a projectPath(\"/\") hash", { timeout: 120_000 }, async (t) => {
  const project = await makeProject(t, {
    "makes.ts": `
if (process.env.MAKES_TEST_SLOW_LOAD === "1") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
export default ({ makeDerivation, projectPath }: any) => ({
  jobs: { "/x": makeDerivation({ name: "x", env: { src: projectPath("/") }, builder: "cp -r $src $out" }) },
});
`,
    "data/a.txt": "a\n",
  });
  const store = join(await tempDir(t, "makes-bundle-race-"), "store");
  const ref = await runMakes(project, ["run", "/x", "--store", store]);
  assert.equal(ref.code, 0, shown(ref));
  // A is slow to load makes.ts: its temporary bundle sits beside makes.ts while B lists the project.
  const slow = spawnMakes(project, ["run", "/x", "--store", store], { env: { MAKES_TEST_SLOW_LOAD: "1" } });
  const slowDone = finished(slow, 60_000);
  const { readdir } = await import("node:fs/promises");
  const deadline = Date.now() + 20_000;
  while (!(await readdir(project)).some((f) => f.startsWith(".makes-config-")) && Date.now() < deadline) await sleep(20);
  assert.ok((await readdir(project)).some((f) => f.startsWith(".makes-config-")), "the slow process never wrote its bundle beside makes.ts");
  const during = await runMakes(project, ["run", "/x", "--store", store]);
  assert.equal(during.code, 0, shown(during));
  assert.equal(during.stdout, ref.stdout, "the hash of projectPath(\"/\") changed while another process was loading makes.ts");
  const a = await slowDone;
  assert.equal(a.code, 0, shown(a));
  assert.equal(a.stdout, ref.stdout);
});
