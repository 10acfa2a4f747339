import { ConfigError, isMakesNode, nodesIn, replaceTokens, type FingerprintContext, type MakesNode } from "@makes/core";
import { checkKnownKeys } from "./check-known-keys.js";
import { checkEnvSize } from "./env-size.js";
import { describeValue, quoted } from "./quoted.js";

/** An env value: a string (may interpolate nodes), a node (its store path), a number or boolean, or a thunk for forward references. */
export type EnvValue = string | number | boolean | MakesNode | (() => string | MakesNode);

/** `env.KEY` for messages, a long key cut short (a valid identifier has no newline, but may be 1 MB long). */
export function envField(key: string): string {
  return `env.${key.length > 60 ? `${key.slice(0, 60)}…` : key}`;
}

/**
 * The text of an env value with nodes as tokens (thunks are called: that is when lazy references resolve).
 * `where` names the value in errors: a thunk runs after makes.ts was evaluated, so what it throws or
 * returns is checked here, as checkEnv checks the other values.
 */
export function envText(value: EnvValue, where = "an env value", key?: string): string {
  let resolved: unknown = value;
  if (typeof value === "function") {
    try {
      resolved = value();
    } catch (err) {
      throw new ConfigError("bad-argument", `${where} is a function that threw: ${quoted(err instanceof Error ? err.message : String(err), 200)}`, { cause: err });
    }
  }
  if (isMakesNode(resolved)) return resolved.toString();
  if (typeof resolved === "string") {
    if (resolved.includes("\0")) throw new ConfigError("bad-argument", `${where} contains a NUL byte, which no environment variable can hold`);
    if (key !== undefined) checkEnvSize(where, key, resolved);
    return resolved;
  }
  if ((typeof resolved === "number" && Number.isFinite(resolved)) || typeof resolved === "boolean") return String(resolved);
  const got = resolved === null ? "null" : Array.isArray(resolved) ? "an array" : typeof resolved;
  throw new ConfigError("bad-argument", `${where} is a function that returned ${got}; it must return a string or a node`);
}

/** The nodes a list of texts refers to, without repeats, in order. */
export function refsOf(texts: readonly string[], extra: readonly MakesNode[] = []): MakesNode[] {
  const refs: MakesNode[] = [];
  for (const node of [...extra, ...texts.flatMap((t) => nodesIn(t))]) if (!refs.includes(node)) refs.push(node);
  return refs;
}

/** A store path's file name is `<32-character hash>-<name>` and must stay well under the 255 bytes of a file name. */
const MAX_NAME = 200;
/** Store names: letters, digits and `+._?=-`, not starting with a dot, as in Nix. */
const STORE_NAME = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;

export function checkName(builder: string, name: unknown): string {
  if (typeof name !== "string" || name === "") {
    throw new ConfigError("bad-argument", `${builder}: \`name\` is required and must be a non-empty string, for example name: "hello"`);
  }
  if (STORE_NAME.test(name) && name.length > MAX_NAME) {
    throw new ConfigError("bad-argument", `${builder}: the name ${JSON.stringify(`${name.slice(0, 60)}…`)} is ${name.length} characters long, over the ${MAX_NAME} a store path's name may have; use a shorter name`);
  }
  if (!STORE_NAME.test(name)) {
    throw new ConfigError(
      "bad-argument",
      `${builder}: the name ${JSON.stringify(name.slice(0, 80))} may only contain letters, digits and + . _ ? = - (no "/" or spaces, not starting with "."); rename it, for example to ${JSON.stringify(name.slice(0, 80).replace(/[^A-Za-z0-9+._?=-]/g, "-").replace(/^\.+/, "") || "job")}`,
    );
  }
  return name;
}

/** Names the builder sets itself; an env key may not override them. */
export const RESERVED_ENV = new Set(["out", "PATH", "HOME", "TMPDIR", "TMP", "TEMP", "SOURCE_DATE_EPOCH"]);
const SHELL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkEnv(builder: string, name: string, env: unknown): Record<string, EnvValue> {
  if (env === undefined) return {};
  if (env === null || typeof env !== "object" || Array.isArray(env) || isMakesNode(env)) {
    throw new ConfigError("bad-argument", `${builder} "${name}": \`env\` must be an object of NAME: value pairs`);
  }
  const out: Record<string, EnvValue> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!SHELL_IDENTIFIER.test(key)) {
      throw new ConfigError("bad-argument", `${builder} "${name}": the env key ${quoted(key)} is not a shell identifier; use letters, digits and _ (not starting with a digit)`);
    }
    if (RESERVED_ENV.has(key)) {
      throw new ConfigError("bad-argument", `${builder} "${name}": the env key "${key}" is reserved (makes sets ${[...RESERVED_ENV].join(", ")}); rename it`);
    }
    const ok = ["string", "number", "boolean", "function"].includes(typeof value) || isMakesNode(value);
    if (!ok || (typeof value === "number" && !Number.isFinite(value))) {
      throw new ConfigError("bad-argument", `${builder} "${name}": ${envField(key)} must be a string, number, boolean or node; got ${describeValue(value)}`);
    }
    if (typeof value === "string" && value.includes("\0")) {
      throw new ConfigError("bad-argument", `${builder} "${name}": ${envField(key)} contains a NUL byte, which no environment variable can hold`);
    }
    if (typeof value === "string") checkEnvSize(`${builder} "${name}": ${envField(key)}`, key, value);
    out[key] = value as EnvValue;
  }
  return out;
}

export function checkText(builder: string, name: string, field: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new ConfigError("bad-argument", `${builder} "${name}": \`${field}\` must be a string of bash; got ${describeValue(value)}`);
  }
  if (value.includes("\0")) throw new ConfigError("bad-argument", `${builder} "${name}": \`${field}\` contains a NUL byte`);
  return value;
}

export function checkSearchPaths(builder: string, name: string, value: unknown): MakesNode[] {
  if (value === undefined) return [];
  const bin = (value as { bin?: unknown } | null)?.bin;
  if (value === null || typeof value !== "object" || Array.isArray(value) || isMakesNode(value) || (bin !== undefined && !Array.isArray(bin))) {
    throw new ConfigError("bad-argument", `${builder} "${name}": \`searchPaths\` must be { bin: [node, ...] }`);
  }
  // Only bin: Nix's other search paths (lib, pythonPackages, …) would need variables makes does not set.
  checkKnownKeys(`${builder} "${name}": searchPaths`, "key", value, ["bin"]);
  const nodes = (bin ?? []) as unknown[];
  for (const [i, n] of nodes.entries()) {
    if (!isMakesNode(n)) throw new ConfigError("bad-argument", `${builder} "${name}": searchPaths.bin[${i}] must be a node (a package or derivation)`);
  }
  return nodes as MakesNode[];
}

export function checkObject(builder: string, args: unknown): Record<string, unknown> {
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new ConfigError("bad-argument", `${builder}: expects one object argument, for example ${builder}({ name: "hello", ... })`);
  }
  return args as Record<string, unknown>;
}

/**
 * Text as `makes why` records it: each node reference written `${label}`, not with its hash, so a changed
 * dependency shows once as that dependency (its `dep:` input) instead of also as a changed builder or env value.
 */
export function textForWhy(ctx: FingerprintContext, text: string): string {
  return replaceTokens(text, (node) => `\${${ctx.labelOf(node)}}`);
}
