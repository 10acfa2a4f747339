/**
 * Property tests of the layer writer (issue 5): random package trees — unicode and 100+-byte names, every
 * mode bit (setuid, setgid, sticky), symlinks (dangling, absolute, `..`, long targets), hardlink groups,
 * empty directories, deep nesting — are written with writeLayer and read back by the real consumers:
 * GNU tar (`tar -xzf --numeric-owner -p`, as root) and `umoci unpack` (of a minimal image from writeImage).
 * The extracted tree must equal the input: names (exact UTF-8 bytes), types, modes, link targets, content,
 * and hardlinked names sharing one inode. The same tree written twice, and a second copy of it made in
 * another order with other mtimes, give the same diff_id. Our own reader (tar-stream) checks the layer's
 * shape: parents before children, no `..`, no absolute names, uid/gid 0.
 *
 * Replay a failure: the failure message carries `seed` and `path`; run with
 * MAKES_FC_SEED=<seed> MAKES_FC_PATH=<path>. MAKES_SLOW=1 runs many more cases (and bigger files).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import fc from "fast-check";
import tar from "tar-stream";
import { validateImageOptions } from "./validate-image-options.js";
import { writeImage } from "./write-image.js";
import { writeLayer } from "./write-layer.js";
import { run } from "./oci-test-helpers.js";

const SLOW = process.env.MAKES_SLOW === "1";
const NUM_RUNS = Number(process.env.MAKES_FC_RUNS ?? (SLOW ? 300 : 40));

// ---------------------------------------------------------------------------------------------------------
// The model of a package tree

type TreeNode =
  | { kind: "file"; mode: number; content: Uint8Array }
  | { kind: "symlink"; target: string }
  | { kind: "dir"; mode: number; children: Array<[string, TreeNode]> };

interface TreeModel {
  root: Array<[string, TreeNode]>;
  /** A chain of nested directories (deep nesting, long total paths) ending in a file. */
  deep: string[];
  /** Extra names for files of the tree: `file` and `dir` index (modulo) the files and directories in creation order. */
  hardlinks: Array<{ file: number; dir: number; name: string }>;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, "utf8");
/** No lone surrogate (String.prototype.isWellFormed, which lib ES2023 does not declare): a string with exact UTF-8 bytes. */
const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);

/** A valid file name: no `/`, no NUL, not `.`/`..`, well-formed UTF-16 (so it has exact UTF-8 bytes), ≤ 255 bytes. */
function validName(s: string): boolean {
  return (
    s.length > 0 &&
    s !== "." &&
    s !== ".." &&
    !s.includes("/") &&
    !s.includes("\0") &&
    wellFormed(s) &&
    utf8Length(s) <= 255 &&
    // OCI whiteouts: a layer cannot carry these names as files (see docs/reliability.md, gaps)
    !s.startsWith(".wh.")
  );
}

const shortName = fc.stringMatching(/^[A-Za-z0-9._+=-]{1,12}$/).filter(validName);
const sortingName = fc.constantFrom("a", "a-b", "a.b", "a_b", "a0", "A", "b", "é", "e\u0301", "日本", "ﬁ", "Ω", "Ω", " sp ace ", "tab\there", "nl\nname", "back\\slash", "q\"uote", "*?[");
const unicodeName = fc.string({ unit: "binary", minLength: 1, maxLength: 24 }).filter(validName);
const longAsciiName = fc.stringMatching(/^[A-Za-z0-9._-]{100,200}$/).filter(validName);
const longUnicodeName = fc
  .tuple(fc.string({ unit: "grapheme", minLength: 20, maxLength: 60 }), fc.stringMatching(/^[a-z]{60,100}$/))
  .map(([u, a]) => `${u}${a}`)
  .filter((s) => validName(s) && utf8Length(s) > 100);
const nameArb = fc.oneof(
  { arbitrary: shortName, weight: 6 },
  { arbitrary: sortingName, weight: 2 },
  { arbitrary: unicodeName, weight: 3 },
  { arbitrary: longAsciiName, weight: 1 },
  { arbitrary: longUnicodeName, weight: 1 },
);

const modeArb = fc.oneof(
  { arbitrary: fc.constantFrom(0o644, 0o755, 0o600, 0o4755, 0o2755, 0o1777, 0o6755, 0o7777, 0o000, 0o444, 0o1755), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 0o7777 }), weight: 2 },
);

const patterned = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
const contentArb = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 3000 }), weight: 4 },
  { arbitrary: fc.constantFrom(0, 1, 100, 511, 512, 513, 1023, 1024, 10_240).map(patterned), weight: 2 },
  ...(SLOW ? [{ arbitrary: fc.integer({ min: 1024 * 1024 - 3, max: 1024 * 1024 + 600 }).map(patterned), weight: 1 }] : []),
);

const targetArb = fc
  .oneof(
    fc.constantFrom("/etc/passwd", "/", "..", "../..", "../../../../etc", "./x", "a/b/c", "nope-dangling", "/nonexistent/dir/", "naïve-файл-日本.txt"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
    fc.stringMatching(/^[a-z/._-]{100,300}$/), // long targets: PAX linkpath
    fc.tuple(fc.string({ unit: "grapheme", minLength: 30, maxLength: 80 }), fc.constant("/tail")).map(([a, b]) => a + b),
  )
  .filter((s) => s.length > 0 && !s.includes("\0") && wellFormed(s) && utf8Length(s) < 4000);

const treeArb = fc.letrec<{ node: TreeNode; dir: TreeNode; file: TreeNode; symlink: TreeNode }>((tie) => ({
  node: fc.oneof(
    { depthIdentifier: "tree", maxDepth: 3 },
    { arbitrary: tie("file"), weight: 5 },
    { arbitrary: tie("symlink"), weight: 2 },
    { arbitrary: tie("dir"), weight: 3 },
  ),
  file: fc.record({ kind: fc.constant("file" as const), mode: modeArb, content: contentArb }),
  symlink: fc.record({ kind: fc.constant("symlink" as const), target: targetArb }),
  dir: fc.record({
    kind: fc.constant("dir" as const),
    mode: modeArb,
    children: fc.uniqueArray(fc.tuple(nameArb, tie("node")), { maxLength: 5, selector: ([name]) => name }),
  }),
})).dir;

const modelArb: fc.Arbitrary<TreeModel> = fc.record({
  root: treeArb.map((d) => (d.kind === "dir" ? d.children : [])),
  deep: fc.oneof(fc.constant([] as string[]), fc.array(shortName, { minLength: 10, maxLength: 45 })),
  hardlinks: fc.array(fc.record({ file: fc.nat(), dir: fc.nat(), name: nameArb }), { maxLength: 5 }),
});

// ---------------------------------------------------------------------------------------------------------
// Making a model on disk

interface Materialised {
  /** Paths (relative) of the regular files, and of the directories ("" is the root), in creation order. */
  files: string[];
  dirs: string[];
}

/**
 * Writes the model under `root`. `reverse` creates children in the opposite order (other inode numbers,
 * other readdir order); `mtimeSeed` gives every entry a different mtime. Modes are set last, deepest first,
 * with an explicit chmod, so neither the umask nor a setgid parent (which Linux propagates to new
 * subdirectories) changes them.
 */
async function materialise(root: string, model: TreeModel, options: { reverse: boolean; mtimeSeed: number }): Promise<Materialised> {
  const files: string[] = [];
  const dirs: string[] = [""];
  const chmods: Array<[string, number]> = [];
  await mkdir(root, { recursive: true });
  const children = (list: Array<[string, TreeNode]>): Array<[string, TreeNode]> => (options.reverse ? [...list].reverse() : list);
  const make = async (rel: string, list: Array<[string, TreeNode]>): Promise<void> => {
    for (const [name, node] of children(list)) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, r);
      if (node.kind === "file") {
        await writeFile(abs, node.content);
        files.push(r);
        chmods.push([r, node.mode]);
      } else if (node.kind === "symlink") {
        await symlink(node.target, abs);
      } else {
        await mkdir(abs);
        dirs.push(r);
        await make(r, node.children);
        chmods.push([r, node.mode]);
      }
    }
  };
  await make("", model.root);
  if (model.deep.length > 0) {
    const names = new Set(await readdir(root));
    let first = model.deep[0] as string;
    while (names.has(first)) first = `${first}~`;
    const chain = [first, ...model.deep.slice(1)];
    let rel = "";
    for (const name of chain) {
      rel = rel === "" ? name : `${rel}/${name}`;
      await mkdir(join(root, rel));
      dirs.push(rel);
      chmods.push([rel, 0o755]);
    }
    const leaf = `${rel}/leaf`;
    await writeFile(join(root, leaf), `deep ${chain.length}\n`);
    files.push(leaf);
    chmods.push([leaf, 0o640]);
  }
  // Hardlink groups: extra names of files, in any directory of the tree. Sorted so both copies link the same.
  const sortedFiles = [...files].sort();
  const sortedDirs = [...dirs].sort();
  if (sortedFiles.length > 0) {
    for (const h of model.hardlinks) {
      const file = sortedFiles[h.file % sortedFiles.length] as string;
      const dir = sortedDirs[h.dir % sortedDirs.length] as string;
      const r = dir === "" ? h.name : `${dir}/${h.name}`;
      try {
        await lstat(join(root, r));
        continue; // the name is taken
      } catch {
        await link(join(root, file), join(root, r));
      }
    }
  }
  // Deepest first, so a directory's mode is set after its children were created.
  chmods.sort((a, b) => b[0].split("/").length - a[0].split("/").length);
  for (const [r, mode] of chmods) await chmod(join(root, r), mode);
  await chmod(root, 0o755);
  let t = options.mtimeSeed;
  for (const r of [...files, ...dirs.filter((d) => d !== "")]) {
    t = (t * 1103515245 + 12345) % 2 ** 31;
    await utimes(join(root, r), t % 2_000_000_000, t % 2_000_000_000);
  }
  return { files, dirs };
}

// ---------------------------------------------------------------------------------------------------------
// Reading a tree back

interface Entry {
  path: string;
  type: "dir" | "file" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  ino: number;
  target?: string;
  sha256?: string;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every entry under root (root excluded), sorted by the bytes of the path. */
async function readTree(root: string): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(rel === "" ? root : join(root, rel))) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const abs = join(root, r);
      const s = await lstat(abs);
      const base = { path: r, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, ino: s.ino };
      if (s.isDirectory()) {
        out.push({ ...base, type: "dir" });
        await walk(r);
      } else if (s.isSymbolicLink()) out.push({ ...base, type: "symlink", target: await readlink(abs) });
      else if (s.isFile()) out.push({ ...base, type: "file", sha256: await sha256Of(abs) });
      else out.push({ ...base, type: "other" });
    }
  };
  await walk("");
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** What must survive a layer: path, type, mode (not for symlinks), target, content. */
function shapeOf(entries: readonly Entry[]): string[] {
  return entries.map((e) =>
    e.type === "symlink"
      ? `${JSON.stringify(e.path)} symlink -> ${JSON.stringify(e.target)}`
      : `${JSON.stringify(e.path)} ${e.type} ${e.mode.toString(8).padStart(4, "0")}${e.sha256 === undefined ? "" : ` ${e.sha256.slice(0, 16)}`}`,
  );
}

/** The hardlink groups: sets of paths sharing an inode (only groups of two or more). */
function linkGroups(entries: readonly Entry[]): string[] {
  const byIno = new Map<number, string[]>();
  for (const e of entries) if (e.type === "file") byIno.set(e.ino, [...(byIno.get(e.ino) ?? []), e.path]);
  return [...byIno.values()].filter((g) => g.length > 1).map((g) => JSON.stringify(g.sort())).sort();
}

/** Our own reader: the tar entries of a gzip layer, in order. */
async function tarEntries(layer: string): Promise<Array<{ name: string; type: string; uid: number; gid: number; linkname: string | null }>> {
  const extract = tar.extract();
  const entries: Array<{ name: string; type: string; uid: number; gid: number; linkname: string | null }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      entries.push({ name: h.name, type: h.type ?? "file", uid: h.uid ?? -1, gid: h.gid ?? -1, linkname: h.linkname ?? null });
      entry.resume();
    }
  })();
  createReadStream(layer).pipe(createGunzip()).pipe(extract);
  await done;
  return entries;
}

function checkLayerShape(entries: Awaited<ReturnType<typeof tarEntries>>): void {
  const seen = new Set<string>();
  for (const e of entries) {
    const name = e.name.replace(/\/$/, "");
    assert.ok(!name.startsWith("/"), `absolute entry name ${JSON.stringify(e.name)}`);
    assert.ok(!name.split("/").includes(".."), `entry name with .. ${JSON.stringify(e.name)}`);
    assert.ok(!name.split("/").includes("."), `entry name with . ${JSON.stringify(e.name)}`);
    assert.deepEqual([e.uid, e.gid], [0, 0], `owner of ${JSON.stringify(e.name)}`);
    const parent = name.split("/").slice(0, -1).join("/");
    if (parent !== "") assert.ok(seen.has(parent), `${JSON.stringify(e.name)} comes before its parent directory`);
    assert.ok(!seen.has(name), `${JSON.stringify(e.name)} appears twice`);
    if (e.type === "link") assert.ok(seen.has(e.linkname ?? ""), `hardlink ${JSON.stringify(e.name)} points to a later or missing entry ${JSON.stringify(e.linkname)}`);
    seen.add(name);
  }
}

// ---------------------------------------------------------------------------------------------------------

const imageOptions = validateImageOptions({}, { name: "property/layer", tag: "latest", jobLabel: "/property" }, {});

test(`writeLayer round-trips random trees through GNU tar and umoci, deterministically (${NUM_RUNS} cases)`, { timeout: SLOW ? 3_600_000 : 300_000 }, async (t) => {
  const seed = process.env.MAKES_FC_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.MAKES_FC_SEED);
  const path = process.env.MAKES_FC_PATH;
  // printed first, so even a timeout leaves the seed in the output
  console.log(`fast-check seed=${seed}${path === undefined ? "" : ` path=${path}`} runs=${NUM_RUNS} (replay: MAKES_FC_SEED=${seed} [MAKES_FC_PATH=...])`);
  const work = await mkdtemp(join(tmpdir(), "makes-layer-prop-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  const stats = { cases: 0, entries: 0, hardlinkGroups: 0, symlinks: 0, specialModes: 0, longNames: 0, maxDepth: 0 };
  let caseNo = 0;

  const property = fc.asyncProperty(modelArb, async (model) => {
    const dir = join(work, `case-${caseNo++}`);
    try {
      const input = join(dir, "in");
      await materialise(input, model, { reverse: false, mtimeSeed: 7 });
      const before = await readTree(input);

      // 1. written twice: the same diff_id and digest
      const layer1 = join(dir, "layer1.tgz");
      const layer2 = join(dir, "layer2.tgz");
      const pkg = { id: "p".repeat(32), name: "p", dir: input, refs: [] };
      const blob1 = await writeLayer([pkg], layer1);
      const blob2 = await writeLayer([pkg], layer2);
      assert.equal(blob2.diffId, blob1.diffId, "the same tree written twice has another diff_id");
      assert.equal(blob2.digest, blob1.digest, "the same tree written twice has another digest");
      // a copy made in the reverse order, with other mtimes and inode numbers: the same diff_id
      const copy = join(dir, "copy");
      await materialise(copy, model, { reverse: true, mtimeSeed: 99991 });
      const blob3 = await writeLayer([{ ...pkg, dir: copy }], join(dir, "layer3.tgz"));
      assert.equal(blob3.diffId, blob1.diffId, "a copy of the tree created in another order has another diff_id");

      // 2. our reader: the layer's shape
      checkLayerShape(await tarEntries(layer1));

      // 3. GNU tar, as root, numeric owners, same permissions
      const byTar = join(dir, "tar");
      await mkdir(byTar);
      await run("tar", ["--numeric-owner", "-p", "-xzf", layer1, "-C", byTar]);
      const tarTree = await readTree(byTar);
      assert.deepEqual(shapeOf(tarTree), shapeOf(before), "GNU tar extracted another tree");
      assert.deepEqual(linkGroups(tarTree), linkGroups(before), "GNU tar: hardlink groups differ");
      for (const e of tarTree) assert.deepEqual([e.uid, e.gid], [0, 0], `GNU tar: owner of ${e.path}`);

      // 4. umoci unpack of a minimal image holding the layer (it checks the diff_id too)
      const image = join(dir, "image");
      await writeImage({ layers: [[pkg]], options: imageOptions, outDir: image, cacheDir: join(dir, "cache"), concurrency: 1, onWarning: () => undefined });
      const bundle = join(dir, "bundle");
      await run("umoci", ["unpack", "--image", `${image}:latest`, bundle]);
      const umociTree = await readTree(join(bundle, "rootfs"));
      assert.deepEqual(shapeOf(umociTree), shapeOf(before), "umoci unpacked another tree");
      assert.deepEqual(linkGroups(umociTree), linkGroups(before), "umoci: hardlink groups differ");
      for (const e of umociTree) assert.deepEqual([e.uid, e.gid], [0, 0], `umoci: owner of ${e.path}`);

      stats.cases++;
      stats.entries += before.length;
      stats.hardlinkGroups += linkGroups(before).length;
      stats.symlinks += before.filter((e) => e.type === "symlink").length;
      stats.specialModes += before.filter((e) => e.type !== "symlink" && (e.mode & 0o7000) !== 0).length;
      stats.longNames += before.filter((e) => utf8Length(e.path.split("/").pop() ?? "") > 100).length;
      stats.maxDepth = Math.max(stats.maxDepth, ...before.map((e) => e.path.split("/").length));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  try {
    await fc.assert(property, { seed, numRuns: NUM_RUNS, includeErrorInReport: true, ...(path === undefined ? {} : { path }) });
  } catch (err) {
    // fast-check's message carries `{ seed: …, path: "…" }` and the counterexample; say how to replay it
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`layer property failed (seed=${seed}; replay: MAKES_FC_SEED=${seed} MAKES_FC_PATH=<path above>)\n${message}`);
  }
  t.diagnostic(`figures: ${JSON.stringify(stats)}`);
  assert.equal(stats.cases, NUM_RUNS);
});
