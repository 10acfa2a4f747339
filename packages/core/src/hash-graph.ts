import type { Stats } from "node:fs";
import { nodeHashOf } from "./canonical-hash.js";
import type { BuildGraph } from "./build-graph.js";
import type { FingerprintContext } from "./fingerprint-context.js";
import type { Fingerprint, MakesNode } from "./makes-node.js";
import { replaceTokens } from "./node-refs.js";
import type { SourceListing } from "./source-listing.js";
import type { StatCache } from "./stat-cache.js";

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
  env: { projectDir: string; listing: SourceListing; statCache: StatCache },
): Promise<Map<MakesNode, HashedNode>> {
  const done = new Map<MakesNode, HashedNode>();
  const pending = new Map<MakesNode, Promise<HashedNode>>();
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
    fileDigest: (abs: string, st: Stats) => env.statCache.digest(abs, st),
    listSourceFiles: (relDir) => env.listing.under(relDir),
  };
  const hashOne = (node: MakesNode): Promise<HashedNode> => {
    let promise = pending.get(node);
    if (promise === undefined) {
      promise = (async () => {
        const deps = graph.deps(node);
        await Promise.all(deps.map(hashOne));
        const fingerprint = await node.fingerprint(ctx);
        const depHashes = deps.map((d) => ctx.hashOf(d));
        const hash = nodeHashOf({ kind: node.kind, name: node.name, key: fingerprint.key, deps: node.fixedOutput ? [] : depHashes });
        const inputs: Record<string, string> = { ...fingerprint.inputs };
        deps.forEach((dep, i) => {
          inputs[`dep:${graph.labelOf(dep)}`] = depHashes[i] ?? "";
        });
        const hashed = { hash, fingerprint, inputs };
        done.set(node, hashed);
        return hashed;
      })();
      pending.set(node, promise);
    }
    return promise;
  };
  await Promise.all(graph.order.map(hashOne));
  return done;
}
