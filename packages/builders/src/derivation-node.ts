import { join } from "node:path";
import { BuildError, fingerprintOf, fixedOutputNamesStore, MakesNode, sha256Hex, treeDigest, type BuildContext, type Fingerprint, type FingerprintContext } from "@makes/core";
import { envField, envText, refsOf, textForWhy, type EnvValue } from "./node-values.js";
import { runBash } from "./run-bash.js";

export interface DerivationSpec {
  readonly name: string;
  readonly builder: string;
  readonly env: Readonly<Record<string, EnvValue>>;
  readonly searchPaths: readonly MakesNode[];
  /** sha256 (hex) of the promised output: a file's content, or the tree digest of a directory. */
  readonly outputHash?: string | undefined;
  readonly runtimeDeps: readonly MakesNode[];
}

/** makeDerivation's node: a bash builder run in a clean environment that writes `$out`. */
export class DerivationNode extends MakesNode {
  readonly kind: string = "derivation";
  #deps: MakesNode[] | undefined;

  constructor(readonly spec: DerivationSpec) {
    super(spec.name);
  }

  #envTexts: Record<string, string> | undefined;

  /**
   * Env values with their thunks called (lazily: a forward reference resolves when the graph is walked), once:
   * makes.ts has been evaluated by then, and the graph, the hash and the build must see the same values.
   */
  envTexts(): Record<string, string> {
    this.#envTexts ??= Object.fromEntries(Object.entries(this.spec.env).map(([k, v]) => [k, envText(v, `makeDerivation "${this.spec.name}": ${envField(k)}`, k)]));
    return this.#envTexts;
  }

  /** A derivation's output is copied rather than rebuilt when its inputs are the same by content. */
  override get earlyCutoff(): boolean {
    return !this.fixedOutput;
  }

  override get fixedOutput(): boolean {
    return this.spec.outputHash !== undefined;
  }

  deps(): readonly MakesNode[] {
    this.#deps ??= refsOf([this.spec.builder, ...Object.values(this.envTexts())], [...this.spec.searchPaths, ...this.spec.runtimeDeps]);
    return this.#deps;
  }

  override runtimeDeps(): readonly MakesNode[] {
    return this.spec.runtimeDeps;
  }

  async fingerprint(ctx: FingerprintContext): Promise<Fingerprint> {
    return this.fingerprintSync(ctx);
  }

  /** Always at hand: the builder and env are strings, and the dependencies are hashed first. */
  override fingerprintSync(ctx: FingerprintContext): Fingerprint {
    const spec = this.spec;
    const texts = this.envTexts();
    const inputs = (): Record<string, string> => {
      const out: Record<string, string> = { builder: sha256Hex(textForWhy(ctx, spec.builder)) };
      for (const [k, v] of Object.entries(texts)) out[`env.${k}`] = textForWhy(ctx, v);
      if (spec.outputHash !== undefined) out.outputHash = spec.outputHash;
      return out;
    };
    const runtimeDeps = spec.runtimeDeps.map((n) => ctx.hashOf(n));
    // Fixed output: the path is the promised content's (see MakesNode.fixedOutput); the builder and env stay
    // in `inputs` only, for `makes why`. Runtime dependencies travel with the output, so they count.
    if (spec.outputHash !== undefined) return fingerprintOf({ outputHash: spec.outputHash, runtimeDeps }, inputs);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(texts)) env[k] = ctx.resolveForHash(v);
    const searchPaths = spec.searchPaths.map((n) => ctx.hashOf(n));
    return fingerprintOf({ builder: ctx.resolveForHash(spec.builder), env, searchPaths, outputHash: null, runtimeDeps }, inputs);
  }

  async build(ctx: BuildContext): Promise<void> {
    const env = Object.fromEntries(Object.entries(this.envTexts()).map(([k, v]) => [k, ctx.resolvePaths(v)]));
    const pathDirs = this.spec.searchPaths.map((n) => `${ctx.storePathOf(n)}/bin`);
    await runBash(ctx, ctx.resolvePaths(this.spec.builder), env, pathDirs);
    if (this.spec.outputHash !== undefined) await checkOutputHash(ctx, this.spec.outputHash);
  }
}

/**
 * The promise of a fixed output: its content has `expected` as sha256 (a file's, or a directory's tree digest).
 * An output that names a store path is refused first, whatever its hash: updating outputHash would not help.
 */
async function checkOutputHash(ctx: BuildContext, expected: string): Promise<void> {
  let actual: string;
  try {
    const needle = `${join(ctx.storeDir, "store")}/`;
    const tree = await treeDigest(ctx.out, { normalise: false, spells: [needle] });
    const spelledAt = tree.spelled.get(needle);
    if (spelledAt !== undefined) throw fixedOutputNamesStore(ctx.label, spelledAt);
    actual = tree.fileDigest ?? tree.digest;
  } catch (err) {
    if (err instanceof BuildError) throw err;
    return; // no output: the engine reports it
  }
  if (actual !== expected.toLowerCase()) {
    throw new BuildError("hash-mismatch", `${ctx.label}: the output does not match outputHash: expected ${expected}, got ${actual}; fix the builder or update outputHash`);
  }
}
