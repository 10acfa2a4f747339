import { createWriteStream, type WriteStream } from "node:fs";
import { lstat, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import pLimit from "p-limit";
import type { BuildContext } from "./build-context.js";
import type { BuildGraph } from "./build-graph.js";
import { cutoffKeyOf, recordCutoff, reuseOutput } from "./early-cutoff.js";
import { BuildError, MakesError, StoreError, storeErrorFrom } from "./errors.js";
import type { EventSink, NodeInfo } from "./events.js";
import type { HashedNode } from "./hash-graph.js";
import type { MakesNode } from "./makes-node.js";
import { replaceTokens } from "./node-refs.js";
import type { Store } from "./store.js";
import type { StoreMeta } from "./store-meta.js";
import { treeDigest } from "./tree-digest.js";
import { makeDirs } from "./make-dirs.js";

export type NodeStatus = "built" | "cached" | "failed" | "skipped" | "would-build";

export interface NodeResult {
  readonly status: NodeStatus;
  readonly info: NodeInfo;
  readonly error?: unknown;
}

export interface RealiseOptions {
  readonly store: Store;
  readonly projectDir: string;
  readonly concurrency: number;
  readonly keepGoing: boolean;
  readonly dryRun: boolean;
  readonly streamLogs: boolean;
  readonly signal: AbortSignal;
  readonly emit: EventSink;
}

/** Builds what is missing among `nodes` (a closure, in dependency order); reuses what is valid. */
export async function realise(
  graph: BuildGraph,
  nodes: readonly MakesNode[],
  hashes: ReadonlyMap<MakesNode, HashedNode>,
  options: RealiseOptions,
): Promise<Map<MakesNode, NodeResult>> {
  const { store, emit } = options;
  const limit = pLimit(options.concurrency);
  const results = new Map<MakesNode, Promise<NodeResult>>();
  let stopping = false;

  const hashOf = (node: MakesNode): string => {
    const hashed = hashes.get(node);
    if (hashed === undefined) throw new Error(`internal: ${node.name} was not hashed`);
    return hashed.hash;
  };
  const infoOf = (node: MakesNode): NodeInfo => {
    const hash = hashOf(node);
    return { hash, name: node.name, kind: node.kind, label: graph.labelOf(node), path: store.layout.storePath(hash, node.name) };
  };

  const buildOne = async (node: MakesNode, info: NodeInfo): Promise<NodeResult> => {
    let release: Awaited<ReturnType<Store["lock"]>>;
    try {
      release = await store.lock(info.hash, node.name, options.signal);
    } catch (err) {
      // A read-only or full store fails here first: a job failure with a one-line reason, not a crash.
      const error = options.signal.aborted ? new BuildError("interrupted", `${info.label}: interrupted`) : storeErrorFrom(err, `locking ${info.label} in the store`);
      if (!(error instanceof MakesError)) throw error;
      emit({ type: "node-failed", node: info, message: error.message, detail: error.detail });
      return { status: "failed", info, error };
    }
    if (release === "done") {
      emit({ type: "node-cached", node: info });
      return { status: "cached", info };
    }
    const started = Date.now();
    let tmp: string | undefined;
    let log: WriteStream | undefined;
    const stats: Record<string, number> = {};
    const known = new Map<string, string>();
    try {
      if ((await store.validMeta(info.hash, node.name)) !== undefined) {
        emit({ type: "node-cached", node: info });
        return { status: "cached", info };
      }
      const hashed = hashes.get(node);
      const deps = graph.deps(node);
      // Every dependency is valid here (built or cached just before): their metadata is read once, for
      // the two things the build needs of it. One that spells the store's location makes this output spell
      // it too, whatever a search of this output finds.
      const depMetas = new Map(deps.map((d) => [d, store.readMetaSync(hashOf(d))] as const));
      const depSpellsRoot = [...depMetas.values()].some((m) => m?.spellsRoot !== false);
      const metaFor = (digest: { digest: string; size: number; spelled: ReadonlyMap<string, string> }, extra: Partial<StoreMeta>): StoreMeta => ({
        format: 1,
        hash: info.hash,
        name: node.name,
        kind: node.kind,
        label: info.label,
        contentDigest: digest.digest,
        size: digest.size,
        builtAt: new Date().toISOString(),
        durationMs: Date.now() - started,
        deps: deps.map(hashOf),
        runtimeDeps: node.runtimeDeps().map(hashOf),
        inputs: hashed?.inputs ?? {},
        depLabels: Object.fromEntries(deps.map((d) => [hashOf(d), graph.labelOf(d)])),
        root: store.root,
        spellsRoot: depSpellsRoot || digest.spelled.has(store.locationNeedle),
        ...extra,
      });
      tmp = await store.makeTempDir(info.hash);
      const out = join(tmp, `${info.hash}-${node.name}`);
      const cutoff =
        node.earlyCutoff && deps.length > 0 && hashed !== undefined
          ? await cutoffKeyOf(store, node, hashed, deps.map((d) => ({ hash: hashOf(d), name: d.name })))
          : undefined;
      if (cutoff !== undefined) {
        // Any failure to reuse (a vanished source, an unreadable file) just means building.
        const reused = await reuseOutput(store, cutoff, { hash: info.hash, name: node.name, depHashes: deps.map(hashOf), out }).catch(() => undefined);
        if (reused !== undefined) {
          await store.install(out, metaFor(reused.digest, { reusedFrom: reused.fromHash }));
          await recordCutoff(store, cutoff, info.hash).catch(() => undefined);
          emit({ type: "node-cached", node: info, reusedFrom: reused.fromPath });
          return { status: "cached", info };
        }
        await rm(out, { recursive: true, force: true });
      }
      emit({ type: "node-started", node: info });
      const tmpDir = join(tmp, "tmp");
      await mkdir(tmpDir);
      await makeDirs(store.layout.logsDir);
      const logPath = store.layout.logPath(info.hash);
      const logStream = createWriteStream(logPath);
      // A log that cannot be written (a full disk) fails the build; unhandled, the stream's error
      // event would end the process.
      let logError: unknown;
      logStream.on("error", (err) => {
        logError ??= err;
      });
      log = logStream;
      const ctx: BuildContext = {
        out,
        tmpDir,
        projectDir: options.projectDir,
        storeDir: store.root,
        hash: info.hash,
        label: info.label,
        concurrency: options.concurrency,
        signal: options.signal,
        storePathOf: (dep) => store.layout.storePath(hashOf(dep), dep.name),
        contentDigestOf: (dep) => (depMetas.get(dep) ?? store.readMetaSync(hashOf(dep)))?.contentDigest ?? "",
        resolvePaths: (text) => replaceTokens(text, (dep) => store.layout.storePath(hashOf(dep), dep.name)),
        log: (chunk) => {
          logStream.write(chunk);
          if (options.streamLogs) emit({ type: "node-log", node: info, text: chunk.toString() });
        },
        logPath,
        warn: (message) => emit({ type: "warning", message, node: info }),
        declareDigest: (relPath, sha256) => {
          known.set(relPath, sha256);
        },
        stat: (name, value) => {
          stats[name] = value;
        },
      };
      const logFailure = (): unknown => storeErrorFrom(logError, `writing the build log of ${info.label}`);
      try {
        await node.build(ctx);
      } catch (err) {
        // A full disk makes builders fail in their own words; the log's error says what to do.
        throw logError !== undefined && !(err instanceof StoreError) ? logFailure() : err;
      }
      if (logError !== undefined) throw logFailure();
      options.signal.throwIfAborted();
      try {
        await lstat(out);
      } catch {
        throw new BuildError("no-output", `${info.label}: the builder finished without creating $out; write the output to "$out" (a file or a directory)`);
      }
      const ownTmp = `${tmp}/`;
      const digest = await treeDigest(out, { normalise: true, known, spells: [store.locationNeedle, ownTmp] }).catch((err: unknown) => {
        throw err instanceof BuildError ? new BuildError(err.reason, `${info.label}: ${err.message}`) : storeErrorFrom(err, `recording the output of ${info.label}`);
      });
      checkSpelled(node, info.label, digest.spelled, store.locationNeedle, ownTmp, emit, info);
      await new Promise<void>((resolve, reject) => logStream.end(() => (logError === undefined ? resolve() : reject(logFailure()))));
      await store.install(out, metaFor(digest, { stats }));
      // Recorded after the path is valid; a crash before it only costs a later reuse.
      if (cutoff !== undefined) await recordCutoff(store, cutoff, info.hash).catch(() => undefined);
      const durationMs = Date.now() - started;
      emit({ type: "node-built", node: info, durationMs, stats });
      return { status: "built", info };
    } catch (err) {
      const error = options.signal.aborted ? new BuildError("interrupted", `${info.label}: interrupted`) : storeErrorFrom(err, `building ${info.label}`);
      if (!(error instanceof MakesError)) throw error;
      emit({
        type: "node-failed",
        node: info,
        message: error.message,
        detail: error.detail,
        logPath: store.layout.logPath(info.hash),
      });
      return { status: "failed", info, error };
    } finally {
      log?.end();
      if (tmp !== undefined) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      await release();
    }
  };

  // Two nodes with one hash (the same Debian package reached through two closures) are one store path:
  // the second waits for the first instead of racing it for the lock and reporting it twice.
  const byHash = new Map<string, Promise<NodeResult>>();
  const resultOf = (node: MakesNode): Promise<NodeResult> => {
    let promise = results.get(node);
    if (promise === undefined) {
      const twin = byHash.get(hashOf(node));
      if (twin !== undefined) {
        promise = twin;
        results.set(node, promise);
        return promise;
      }
      promise = (async (): Promise<NodeResult> => {
        const depResults = await Promise.all(graph.deps(node).map(resultOf));
        const info = infoOf(node);
        const failedDep = depResults.find((r) => r.status === "failed" || r.status === "skipped");
        if (failedDep !== undefined) {
          const because = `${failedDep.info.label} ${failedDep.status === "failed" ? "failed" : "was not built"}`;
          emit({ type: "node-skipped", node: info, because });
          return { status: "skipped", info };
        }
        if (store.isValid(info.hash, node.name)) {
          emit({ type: "node-cached", node: info });
          return { status: "cached", info };
        }
        if (options.dryRun || depResults.some((r) => r.status === "would-build")) {
          emit({ type: "node-would-build", node: info });
          return { status: "would-build", info };
        }
        return limit(async () => {
          if (stopping || options.signal.aborted) {
            emit({ type: "node-skipped", node: info, because: options.signal.aborted ? "the run was interrupted" : "an earlier job failed" });
            return { status: "skipped", info };
          }
          const result = await buildOne(node, info);
          if (result.status === "failed" && !options.keepGoing) stopping = true;
          return result;
        });
      })();
      results.set(node, promise);
      byHash.set(hashOf(node), promise);
    }
    return promise;
  };

  // First, in dependency order, every node that is valid over valid deps: reported cached in one loop, without a
  // promise each (a cached run of a monorepo is thousands of them). The rest goes the concurrent way below.
  const cachedNow = new Set<MakesNode>();
  for (const node of nodes) {
    if (!graph.deps(node).every((dep) => cachedNow.has(dep))) continue;
    const info = infoOf(node);
    const twin = byHash.get(info.hash);
    if (twin === undefined && !store.isValid(info.hash, node.name)) continue;
    const promise = twin ?? Promise.resolve<NodeResult>({ status: "cached", info });
    if (twin === undefined) emit({ type: "node-cached", node: info });
    cachedNow.add(node);
    results.set(node, promise);
    byHash.set(info.hash, promise);
  }
  const settled = await Promise.all(nodes.map(async (n) => [n, await resultOf(n)] as const));
  return new Map(settled);
}

/**
 * What an output may not name. A fixed-output node's path does not depend on its dependencies (see
 * MakesNode.fixedOutput), so an output naming a store path would be right in this store only: refused, as Nix
 * refuses references in fixed-output derivations. `$out` is a temporary path renamed into the store after the
 * build (no self-reference rewriting, unlike Nix): an output naming it points at nothing once the build ends,
 * which is worth a warning, not a failure (a log or a cache file of a tool may name it harmlessly).
 */
function checkSpelled(
  node: MakesNode,
  label: string,
  spelled: ReadonlyMap<string, string>,
  storeNeedle: string,
  ownTmp: string,
  emit: EventSink,
  info: NodeInfo,
): void {
  const shown = (rel: string | undefined): string => (rel === undefined || rel === "" ? "the output" : JSON.stringify(rel));
  const inStore = spelled.get(storeNeedle);
  if (node.fixedOutput && inStore !== undefined) throw fixedOutputNamesStore(label, inStore);
  const tmp = spelled.get(ownTmp);
  if (tmp !== undefined) {
    emit({
      type: "warning",
      node: info,
      message: `${shown(tmp)} names the build's temporary $out (${ownTmp}…), which is gone once the build ends: makes does not rewrite self-references as Nix does; use relative paths (ln -s ../lib/x, "$(dirname "$0")") within the output`,
    });
  }
}

/** The failure of a fixed-output node whose output names a store path (in the entry at `rel`). */
export function fixedOutputNamesStore(label: string, rel: string): BuildError {
  return new BuildError(
    "bad-output",
    `${label}: the output of a fixed-output derivation names a store path (in ${rel === "" ? "the output" : JSON.stringify(rel)}), so it would only be right in this store; copy what it needs into $out instead of referring to it, or drop outputHash`,
  );
}
