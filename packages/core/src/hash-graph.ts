import type { Stats } from "node:fs";
import { nodeHashOf } from "./canonical-hash.js";
import type { BuildGraph } from "./build-graph.js";
import type { FingerprintContext, ListedFile } from "./fingerprint-context.js";
import type { Fingerprint, MakesNode } from "./makes-node.js";
import { replaceTokens } from "./node-refs.js";
import type { SourceListing } from "./source-listing.js";
import type { StatCache } from "./stat-cache.js";
import type { BlobDigests } from "./blob-digests.js";
import type { GitBlob } from "./git-listing.js";

export interface HashedNode {
  readonly hash: string;
  readonly fingerprint: Fingerprint;
  /** The inputs of the fingerprint plus one `dep:<label>` entry per dependency. */
  readonly inputs: Readonly<Record<string, string>>;
}

/**
 * Computes every node's hash, deps first, independent nodes concurrently. The hash covers the node's
 * kind, name and fingerprint key, and its deps' hashes (but for a fixed-output node): never a path, a
 * time or the store's location.
 */
export async function hashGraph(
  graph: BuildGraph,
  env: { projectDir: string; listing: SourceListing; statCache: StatCache; blobs: BlobDigests },
): Promise<Map<MakesNode, HashedNode>> {
  const done = new Map<MakesNode, HashedNode>();
  const pending = new Map<MakesNode, Promise<HashedNode>>();
  const listed = (files: readonly string[], blobs: readonly (GitBlob | undefined)[]): ListedFile[] =>
    files.map((path, i): ListedFile => {
      const blob = blobs[i];
      const digest = blob === undefined ? undefined : env.blobs.get(blob.oid);
      return digest === undefined || blob === undefined ? { path } : { path, mode: blob.mode, digest };
    });
  let ready = false;
  const ctx: FingerprintContext = {
    projectDir: env.projectDir,
    labelOf: (node) => graph.labelOf(node),
    hashOf(node) {
      const hashed = done.get(node);
      if (hashed === undefined) throw new Error(`internal: ${node.name} hashed before its dependency`);
      return hashed.hash;
    },
    resolveForHash(text) {
      return replaceTokens(text, (node) => `/makes-store/${ctx.hashOf(node)}-${node.name}`);
    },
    async fileDigest(abs: string, st: Stats, path: string) {
      const { digest, blob } = await env.statCache.digest(abs, st);
      // Learned only when this very read has git's blob id: git's word and these bytes agree.
      const clean = env.listing.clean(path);
      if (clean !== undefined && blob === clean.oid) env.blobs.learn(blob, digest);
      return digest;
    },
    async listSourceFiles(relDir) {
      const [{ files, blobs }] = await Promise.all([env.listing.tree(relDir), env.blobs.load()]);
      return listed(files, blobs);
    },
    listSourceFilesSync(relDir) {
      if (!ready) return undefined;
      const { files, blobs } = env.listing.treeSync(relDir);
      return listed(files, blobs);
    },
  };
  const finish = (node: MakesNode, fingerprint: Fingerprint): HashedNode => {
    const deps = graph.deps(node);
    const depHashes = deps.map((d) => ctx.hashOf(d));
    const hash = nodeHashOf({ kind: node.kind, name: node.name, key: fingerprint.key, deps: node.fixedOutput ? [] : depHashes });
    let inputs: Record<string, string> | undefined;
    const hashed: HashedNode = {
      hash,
      fingerprint,
      // Read only for a build's record and by `makes why`: not made for every node of a cached run.
      get inputs() {
        if (inputs === undefined) {
          inputs = { ...fingerprint.inputs };
          for (const [i, dep] of deps.entries()) inputs[`dep:${graph.labelOf(dep)}`] = depHashes[i] ?? "";
        }
        return inputs;
      },
    };
    done.set(node, hashed);
    return hashed;
  };
  const hashOne = (node: MakesNode): Promise<HashedNode> => {
    const hashed = done.get(node);
    if (hashed !== undefined) return Promise.resolve(hashed);
    let promise = pending.get(node);
    if (promise === undefined) {
      promise = (async () => {
        await Promise.all(graph.deps(node).map(hashOne));
        return finish(node, await node.fingerprint(ctx));
      })();
      pending.set(node, promise);
    }
    return promise;
  };
  // First, in dependency order, every node that can be hashed without waiting: a derivation always, a source
  // tree whose files git vouches for once the listing is in. A cached monorepo run is then one loop, not a
  // chain of promises per node; what needs a read (a changed file, a Debian index) goes the concurrent way.
  if (graph.order.some((node) => node.kind === "source")) {
    await Promise.all([env.listing.all(), env.blobs.load()]);
    ready = true;
  }
  for (const node of graph.order) {
    if (!graph.deps(node).every((dep) => done.has(dep))) continue;
    const fingerprint = node.fingerprintSync(ctx);
    if (fingerprint !== undefined) finish(node, fingerprint);
  }
  await Promise.all(graph.order.map(hashOne));
  return done;
}
