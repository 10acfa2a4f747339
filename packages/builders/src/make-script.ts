import type { MakesNode } from "@makes/core";
import { checkKnownKeys } from "./check-known-keys.js";
import { checkEnv, checkName, checkObject, checkSearchPaths, checkText, type EnvValue } from "./node-values.js";
import { ScriptNode } from "./script-node.js";

export interface ScriptArgs {
  readonly name: string;
  /** Bash; `"$@"` are the arguments given after `--`. */
  readonly entrypoint: string;
  readonly env?: Readonly<Record<string, EnvValue>>;
  readonly searchPaths?: { readonly bin?: readonly MakesNode[] };
}

export function makeScript(args: ScriptArgs): ScriptNode {
  const raw = checkObject("makeScript", args);
  const name = checkName("makeScript", raw.name);
  checkKnownKeys(`makeScript "${name}"`, "argument", raw, ["name", "entrypoint", "env", "searchPaths"]);
  return new ScriptNode({
    name,
    entrypoint: checkText("makeScript", name, "entrypoint", raw.entrypoint),
    env: checkEnv("makeScript", name, raw.env),
    searchPaths: checkSearchPaths("makeScript", name, raw.searchPaths),
  });
}
