import type { Canonical } from "./canonical-hash.js";
import { registerNode } from "./node-refs.js";
import type { BuildContext } from "./build-context.js";
import type { FingerprintContext } from "./fingerprint-context.js";

/** What a node's hash is taken over, and what `makes why` compares input by input. */
export interface Fingerprint {
  /** Everything that can change the output except the dep hashes (added by the engine). */
  readonly key: Canonical;
  /**
   * A flat, human-readable list of the inputs (`builder` → digest, `env.PORT` → value,
   * `file:src/a.ts` → `100644 <sha256>`), recorded with each build for `makes why`.
   */
  readonly inputs: Readonly<Record<string, string>>;
}

/** How `makes run` treats a job after building it: print its path, or run it (scripts). */
export interface RunAction {
  /** The executable to run, given the node's store path. */
  executable(storePath: string): string;
}

/**
 * An immutable description of something to build. Nothing is built while makes.ts is evaluated;
 * the engine realises nodes later, in dependency order.
 */
export abstract class MakesNode {
  /** The kind shown in `makes list` and hashed (derivation, source, debian, fetch, image, script). */
  abstract readonly kind: string;
  readonly name: string;
  readonly #token: string;

  constructor(name: string) {
    this.name = name;
    this.#token = registerNode(this);
  }

  /** How messages and `makes why` name this node when it is not a job: its name, unless a kind knows better. */
  get label(): string {
    return this.name;
  }

  /**
   * Whether an output built from the same inputs *by content* may be reused when only dependency hashes
   * changed (early cutoff, see early-cutoff.ts). Kinds whose outputs are cheap to rebuild or large to copy
   * (images) or always name their dependencies' paths (scripts) leave it off.
   */
  get earlyCutoff(): boolean {
    return false;
  }

  /**
   * A fixed-output node promises its content in advance (a sha256 checked after the build): its hash is
   * its kind, name and fingerprint alone, without its dependencies' hashes, so a new builder or a changed
   * dependency that makes the same content keeps its store path and rebuilds nothing (Nix's fixed-output
   * derivations). Its fingerprint must then hold only what the content is, not how it is made.
   */
  get fixedOutput(): boolean {
    return false;
  }

  /** Nodes that must be built before this one. */
  abstract deps(): readonly MakesNode[];

  /** Nodes that must be present at run time beside this one (a Debian package's Depends). */
  runtimeDeps(): readonly MakesNode[] {
    return [];
  }

  abstract fingerprint(ctx: FingerprintContext): Promise<Fingerprint>;

  /**
   * The fingerprint when it can be had without waiting (no file to read, no listing to wait for), else
   * undefined and the engine awaits `fingerprint`. Both give the same fingerprint: this is only faster.
   */
  fingerprintSync(_ctx: FingerprintContext): Fingerprint | undefined {
    return undefined;
  }

  /** Writes the output at `ctx.out`. Throws a MakesError for expected failures. */
  abstract build(ctx: BuildContext): Promise<void>;

  /** Set for nodes that `makes run` executes after building (makeScript). */
  runAction(): RunAction | undefined {
    return undefined;
  }

  /** `${node}` in a template string: a token the builders turn into the node's store path. */
  toString(): string {
    return this.#token;
  }

  /** JSON.stringify of a node gives its token as well, so `${JSON.stringify({ dep })}` records the reference. */
  toJSON(): string {
    return this.#token;
  }
}

export function isMakesNode(value: unknown): value is MakesNode {
  return value instanceof MakesNode;
}
