import { ConfigError, type MakesNode } from "@makes/core";
import { checkEnv, checkName, checkObject, checkSearchPaths, checkText, quoted, type EnvValue } from "./node-values.js";
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
  const known = new Set(["name", "entrypoint", "env", "searchPaths"]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError("bad-argument", `makeScript "${name}": unknown argument ${quoted(key)}; the arguments are ${[...known].join(", ")}`);
  }
  return new ScriptNode({
    name,
    entrypoint: checkText("makeScript", name, "entrypoint", raw.entrypoint),
    env: checkEnv("makeScript", name, raw.env),
    searchPaths: checkSearchPaths("makeScript", name, raw.searchPaths),
  });
}
