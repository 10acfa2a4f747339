import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MakesNode, type BuildContext, type Fingerprint, type FingerprintContext, type RunAction, makeDirs } from "@makes/core";
import { envField, envText, refsOf, textForWhy, type EnvValue } from "./node-values.js";
import { BASH_PRELUDE } from "./run-bash.js";
import { shellQuote } from "./shell-quote.js";

export interface ScriptSpec {
  readonly name: string;
  readonly entrypoint: string;
  readonly env: Readonly<Record<string, EnvValue>>;
  readonly searchPaths: readonly MakesNode[];
}

/**
 * makeScript's node: a store path holding `bin/<name>`. `makes run` builds it and then runs it in the
 * caller's directory with the caller's environment (scripts are impure by design, as in
 * fluidattacks/makes), with the declared search paths put first on PATH.
 */
export class ScriptNode extends MakesNode {
  readonly kind = "script";
  #deps: MakesNode[] | undefined;

  constructor(readonly spec: ScriptSpec) {
    super(spec.name);
  }

  private envTexts(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.spec.env).map(([k, v]) => [k, envText(v, `makeScript "${this.spec.name}": ${envField(k)}`, k)]));
  }

  deps(): readonly MakesNode[] {
    this.#deps ??= refsOf([this.spec.entrypoint, ...Object.values(this.envTexts())], this.spec.searchPaths);
    return this.#deps;
  }

  async fingerprint(ctx: FingerprintContext): Promise<Fingerprint> {
    const entrypoint = ctx.resolveForHash(this.spec.entrypoint);
    const env = Object.fromEntries(Object.entries(this.envTexts()).map(([k, v]) => [k, ctx.resolveForHash(v)]));
    const inputs: Record<string, string> = { entrypoint: textForWhy(ctx, this.spec.entrypoint) };
    for (const [k, v] of Object.entries(this.envTexts())) inputs[`env.${k}`] = textForWhy(ctx, v);
    return { key: { entrypoint, env, searchPaths: this.spec.searchPaths.map((n) => ctx.hashOf(n)) }, inputs };
  }

  async build(ctx: BuildContext): Promise<void> {
    const lines = ["#!/usr/bin/env bash", BASH_PRELUDE.trimEnd()];
    const bins = this.spec.searchPaths.map((n) => `${ctx.storePathOf(n)}/bin`);
    if (bins.length > 0) lines.push(`export PATH=${shellQuote(bins.join(":"))}":$PATH"`);
    for (const [k, v] of Object.entries(this.envTexts())) lines.push(`export ${k}=${shellQuote(ctx.resolvePaths(v))}`);
    lines.push(ctx.resolvePaths(this.spec.entrypoint), "");
    const bin = join(ctx.out, "bin");
    await makeDirs(bin);
    const file = join(bin, this.name);
    await writeFile(file, lines.join("\n"));
    await chmod(file, 0o755);
  }

  override runAction(): RunAction {
    return { executable: (storePath) => join(storePath, "bin", this.name) };
  }
}
