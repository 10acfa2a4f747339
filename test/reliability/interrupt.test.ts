/**
 * Interrupt (issue 5): SIGINT during a build stops the builders' whole process groups — a `sleep`
 * child, a grandchild, and a child that ignores SIGTERM and holds no pipe — removes the temporary
 * directories (the store's tmp/ and the layer cache's tmp/), leaves no lock and no valid path for the
 * interrupted nodes, prints no stack trace and exits 130. Then SIGINT at random moments of a build and of
 * an image build: exit 130 (or 0 if it had finished), nothing left running, `makes verify` clean, and
 * the next run completes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { finished, makeProject, runMakes, shown, spawnMakes, stdoutLines, tempDir } from "../helpers/project.ts";
import { buildersOf, checkStore, figures, listDir, prng, seedFromEnv, sleep, SLOW } from "./support.ts";

async function isGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z"); // a zombie is dead, waiting to be reaped
  } catch {
    return true;
  }
}

const SLEEPERS = `
export default ({ makeDerivation, makeContainerImage }: any) => {
  const sleeper = (name: string) =>
    makeDerivation({
      name,
      builder: [
        "mkdir -p $out",
        "(trap '' TERM; exec sleep 30) >/dev/null 2>&1 < /dev/null &", // ignores SIGTERM, holds no pipe
        "sleep 30 &",                                                  // holds the log pipe
        "bash -c 'sleep 31; echo grandchild' &",                       // a grandchild
        "echo started-" + name,
        "wait",
      ].join("\\n"),
    });
  const one = sleeper("one"), two = sleeper("two");
  const top = makeDerivation({ name: "top", env: { one, two }, builder: "mkdir -p $out" });
  const big = makeDerivation({
    name: "big",
    builder: "mkdir -p $out/data; for i in 1 2 3 4; do shuf -i 1-100000000 -n 400000 --random-source=<(yes $i) > $out/data/f$i; done",
  });
  return { jobs: { "/top": top, "/big": big, "/image": makeContainerImage({ layers: [big] }) } };
};
`;

test("SIGINT stops every builder's process group, removes temporary directories and exits 130", { timeout: 120_000 }, async (t) => {
  const project = await makeProject(t, { "makes.ts": SLEEPERS });
  const store = join(await tempDir(t, "makes-interrupt-"), "store");
  const child = spawnMakes(project, ["run", "/top", "--store", store, "-j", "2"]);
  const done = finished(child, 60_000);
  // Both builders running, each with its three children.
  let procs = await buildersOf(store);
  const deadline = Date.now() + 30_000;
  while (procs.filter((p) => p.cmdline.startsWith("sleep")).length < 6 && Date.now() < deadline) {
    await sleep(50);
    procs = await buildersOf(store);
  }
  assert.ok(procs.filter((p) => p.cmdline.startsWith("sleep")).length >= 6, `the builders did not start: ${JSON.stringify(procs)}`);
  assert.equal(new Set(procs.map((p) => p.pgid)).size, 2, "each builder has its own process group");
  const sigintAt = Date.now();
  child.kill("SIGINT");
  const r = await done;
  const exitMs = Date.now() - sigintAt;
  assert.equal(r.code, 130, shown(r));
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
  assert.equal(r.stdout, "", "no output path for an interrupted run");
  // makes has sent SIGKILL to each group before it exits; on a loaded machine a killed process may take a
  // moment to be scheduled and die, so wait a little for the kernel, not for makes.
  const deadline2 = Date.now() + 3000;
  while (Date.now() < deadline2 && !(await Promise.all(procs.map((p) => isGone(p.pid)))).every(Boolean)) await sleep(50);
  for (const p of procs) assert.ok(await isGone(p.pid), `${p.cmdline} (pid ${p.pid}) survived the interrupt`);
  assert.deepEqual(await buildersOf(store), []);
  const state = await checkStore(store);
  assert.deepEqual(state.problems, []);
  assert.deepEqual(state.tmpLeft, [], "temporary build directories were left");
  assert.deepEqual(state.locksLeft, [], "locks were left");
  assert.equal(state.valid.size, 0, "an interrupted node looks valid");
  t.diagnostic(figures("interrupt-sleepers", { processesStopped: procs.length, groups: 2, exitMs }));
});

test("SIGINT while an image's layers are written removes the layer cache's temporary files too", { timeout: 180_000 }, async (t) => {
  const project = await makeProject(t, { "makes.ts": SLEEPERS });
  const store = join(await tempDir(t, "makes-interrupt-image-"), "store");
  const big = await runMakes(project, ["run", "/big", "--store", store], { timeoutMs: 120_000 });
  assert.equal(big.code, 0, shown(big));
  const child = spawnMakes(project, ["run", "/image", "--store", store, "--reporter", "json"]);
  const done = finished(child, 120_000);
  // Interrupt once the layer is being written (its temporary blob exists).
  const cacheTmp = join(store, "oci-cache", "tmp");
  const deadline = Date.now() + 60_000;
  while ((await listDir(cacheTmp)).length === 0 && Date.now() < deadline) await sleep(10);
  const writing = (await listDir(cacheTmp)).length > 0;
  child.kill("SIGINT");
  const r = await done;
  assert.ok(writing, `the layer was never seen being written: ${shown(r)}`);
  assert.equal(r.code, 130, shown(r));
  assert.deepEqual(await listDir(cacheTmp), [], "the layer cache's temporary blob was left");
  const state = await checkStore(store);
  assert.deepEqual(state.problems, []);
  assert.deepEqual(state.tmpLeft, []);
  assert.deepEqual(state.locksLeft, []);
  assert.equal(state.valid.size, 1, "only /big is valid");
  const next = await runMakes(project, ["run", "/image", "--store", store], { timeoutMs: 120_000 });
  assert.equal(next.code, 0, shown(next));
});

const MOMENTS = SLOW ? 40 : 8;

test(`SIGINT at ${MOMENTS} random moments of a build: exit 130, nothing left running, the store verifies`, { timeout: 300_000 }, async (t) => {
  const seed = seedFromEnv();
  console.log(`interrupt seed=${seed} (replay: MAKES_RELIABILITY_SEED=${seed})`);
  const random = prng(seed);
  const project = await makeProject(t, {
    "makes.ts": `
export default ({ makeDerivation, makeContainerImage }: any) => {
  const mk = (name: string, env: Record<string, unknown>) => makeDerivation({
    name, env,
    builder: \`mkdir -p $out; for i in 1 2 3; do shuf -i 1-1000000 -n 20000 --random-source=<(yes \${name}$i) > $out/f$i; sleep 0.05; done\`,
  });
  const a = mk("a", {}), b = mk("b", {}), c = mk("c", { a, b });
  return { jobs: { "/all": makeContainerImage({ layers: [c, a, b] }) } };
};
`,
  });
  const work = await tempDir(t, "makes-interrupt-moments-");
  const refStore = join(work, "ref");
  const started = Date.now();
  const ref = await runMakes(project, ["run", "/all", "--store", refStore]);
  const span = Date.now() - started;
  assert.equal(ref.code, 0, shown(ref));
  const failures: string[] = [];
  const stats = { seed, moments: 0, exit130: 0, diedBySigintDuringStartup: 0, finishedFirst: 0, failures: 0 };
  // Stratified over the reference run; a moment at which makes had already finished is replaced by an
  // earlier random one, so that MOMENTS interrupts land on a running makes.
  let landed = 0;
  for (let i = 0; landed < MOMENTS && i < 3 * MOMENTS; i++) {
    const store = join(work, `s${i}`);
    const at = i < MOMENTS ? Math.round((span * (i + random())) / MOMENTS) : Math.round(span * 0.8 * random());
    const child = spawnMakes(project, ["run", "/all", "--store", store]);
    const done = finished(child, 60_000);
    await sleep(at);
    child.kill("SIGINT");
    const r = await done;
    stats.moments++;
    const where = `moment ${i} (${at} ms of ~${span} ms, seed ${seed})`;
    // Before makes has installed its handler (Node's own start-up, before anything is written) SIGINT
    // ends it by the default action: a shell reports that as 130 too (128 + SIGINT).
    if (r.code === 130) stats.exit130++;
    else if (r.code === null && r.signal === "SIGINT") stats.diedBySigintDuringStartup++;
    else if (r.code === 0) stats.finishedFirst++;
    else failures.push(`${where}: exit ${shown(r)}`);
    if (r.code === 130 || r.signal === "SIGINT") landed++;
    if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) failures.push(`${where}: a stack trace: ${r.stderr}`);
    const left = await buildersOf(store);
    if (left.length > 0) failures.push(`${where}: builders still running: ${JSON.stringify(left)}`);
    const state = await checkStore(store);
    for (const p of state.problems) failures.push(`${where}: ${p}`);
    if (state.tmpLeft.length > 0) failures.push(`${where}: tmp/ left: ${state.tmpLeft.join(", ")}`);
    if (state.locksLeft.length > 0) failures.push(`${where}: locks left: ${state.locksLeft.join(", ")}`);
    const cacheTmp = await listDir(join(store, "oci-cache", "tmp"));
    if (cacheTmp.length > 0) failures.push(`${where}: oci-cache/tmp left: ${cacheTmp.join(", ")}`);
    const next = await runMakes(project, ["run", "/all", "--store", store]);
    if (next.code !== 0 || stdoutLines(next)[0] !== (stdoutLines(ref)[0] ?? "").replace(refStore, store)) failures.push(`${where}: the next run: ${shown(next)}`);
  }
  stats.failures = failures.length;
  t.diagnostic(figures("interrupt-moments", { ...stats, spanMs: span }));
  assert.deepEqual(failures, []);
  assert.equal(landed, MOMENTS, `only ${landed} interrupts landed on a running makes`);
});
