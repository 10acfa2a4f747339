import { quoted } from "../quoted.js";
import { closestName, ConfigError } from "@makes/core";
import { GOARCH_NAMES, GOOS_NAMES, suggestGoName } from "./go-platform-names.js";
import { goArch, goOs } from "./host-platform.js";
import { closestSignal, isLinuxSignal, LINUX_SIGNAL_FORMS } from "./linux-signals.js";
import { IMAGE_CONFIG_KEYS, type ImageConfig, type ImageOptions } from "./image-options.js";

export const DEFAULT_MAX_LAYERS = 65;
export const DEFAULT_CREATED = "1970-01-01T00:00:01Z";

/** RFC 3339 §5.6 date-time (what skopeo and umoci parse); Date.parse then rejects impossible dates. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** docker/distribution reference grammar: optional domain[:port], then lowercase path components. */
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const ENV_ENTRY = /^[^=]+=/s;
const PORT = /^(\d{1,5})(\/(tcp|udp|sctp))?$/;
/** Docker's `user`, `uid`, `user:group` or `uid:gid`: one or two names without colons or blanks. */
const USER = /^[^:\s]+(:[^:\s]+)?$/;

export interface ImageOptionDefaults {
  name: string;
  tag: string;
  /** Names the job in every error, e.g. "/myContainer". */
  jobLabel: string;
}

/**
 * Checks every image argument before anything is built and fills in the defaults.
 * Throws ConfigError("bad-argument") with a one-line message naming the field and the accepted form.
 */
export function validateImageOptions(
  raw: Readonly<Record<string, unknown>>,
  defaults: ImageOptionDefaults,
  env: { SOURCE_DATE_EPOCH?: string | undefined },
): ImageOptions {
  const fail: Fail = (field, form, value, hint = "") => {
    throw new ConfigError("bad-argument", `makeContainerImage (${defaults.jobLabel}): ${field} must be ${form}, got ${describe(value)}${hint}`);
  };

  const maxLayers = raw["maxLayers"] ?? DEFAULT_MAX_LAYERS;
  if (typeof maxLayers !== "number" || !Number.isInteger(maxLayers) || maxLayers < 1) {
    fail("maxLayers", "a positive integer", shown(maxLayers));
  }

  const name = raw["name"] ?? defaults.name;
  if (typeof name !== "string" || !isReferenceName(name)) {
    const hint = typeof name !== "string" ? undefined
      : name.length > 255 ? `; it has ${name.length} characters, at most 255 are allowed`
      : isReferenceName(name.toLowerCase()) ? `; use ${JSON.stringify(name.toLowerCase())}` : undefined;
    fail("name", "a docker reference name (lowercase components like \"example.com/team/app\")", shown(name), hint);
  }
  const tag = raw["tag"] ?? defaults.tag;
  if (typeof tag !== "string" || !TAG.test(tag)) {
    fail("tag", "a tag of 1 to 128 characters [A-Za-z0-9_.-] not starting with \".\" or \"-\"", shown(tag));
  }
  const architecture = platformName(raw["architecture"], goArch(), "architecture", "a Go GOARCH name", GOARCH_NAMES, fail);
  const os = platformName(raw["os"], goOs(), "os", "a Go GOOS name", GOOS_NAMES, fail);

  let created = raw["created"];
  if (created === undefined) {
    const epoch = env.SOURCE_DATE_EPOCH;
    if (epoch === undefined || epoch === "") {
      created = DEFAULT_CREATED;
    } else {
      if (!/^\d{1,12}$/.test(epoch)) fail("SOURCE_DATE_EPOCH", "a whole number of seconds since 1970", shown(epoch));
      created = new Date(Number(epoch) * 1000).toISOString().replace(/\.000Z$/, "Z");
    }
  } else if (typeof created !== "string" || !RFC3339.test(created) || Number.isNaN(Date.parse(created))) {
    fail("created", "an RFC 3339 time such as \"1970-01-01T00:00:01Z\"", shown(created));
  }

  const config = validateConfig(raw["config"], os, fail);
  return {
    maxLayers: maxLayers as number,
    config,
    name: name as string,
    tag: tag as string,
    architecture,
    os,
    created: created as string,
  };
}

/** Throws the one-line error for `field`; `hint` (what to write instead) goes after the value. */
type Fail = (field: string, form: string, value: unknown, hint?: string) => never;

/** `architecture` or `os`: one of Go's names, which is what Docker and registries match platforms by. */
function platformName(value: unknown, host: string, field: "architecture" | "os", form: string, names: readonly string[], fail: Fail): string {
  const listed = `${form} (${names.join(", ")})`;
  if (value === undefined) {
    if (!names.includes(host)) fail(field, listed, new Shown(`nothing, and this host's ${JSON.stringify(host)} is not one`), `; set ${field} explicitly`);
    return host;
  }
  if (typeof value !== "string") return fail(field, listed, value);
  if (!names.includes(value)) {
    const suggestion = suggestGoName(value, field);
    fail(field, listed, shown(value), suggestion === undefined ? undefined : `; use ${JSON.stringify(suggestion)}`);
  }
  return value;
}

function validateConfig(raw: unknown, os: string, fail: Fail): ImageConfig {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) return fail("config", `an object with the fields ${IMAGE_CONFIG_KEYS.join(", ")}`, raw);
  const known: readonly string[] = IMAGE_CONFIG_KEYS;
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      const near = closestName(key, known);
      fail(`config${member(key)}`, `one of the known fields (${IMAGE_CONFIG_KEYS.join(", ")})`, new Shown("an unknown field"), near === undefined ? undefined : `; did you mean config.${near}?`);
    }
  }
  const config: ImageConfig = {};
  const env = raw["Env"];
  if (env !== undefined) {
    // A spread visits holes (`["A=1", , ]`) that every() would skip.
    if (!Array.isArray(env) || ![...env].every((e) => typeof e === "string" && ENV_ENTRY.test(e))) {
      fail("config.Env", "an array of \"NAME=value\" strings", badElement(env, (e) => typeof e === "string" && ENV_ENTRY.test(e)));
    }
    config.Env = [...(env as string[])];
  }
  for (const key of ["Entrypoint", "Cmd"] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || ![...value].every((e) => typeof e === "string")) {
      fail(`config.${key}`, "an array of strings (the program and its arguments)", badElement(value, (e) => typeof e === "string"));
    }
    config[key] = [...(value as string[])];
  }
  // Each form says what a valid value looks like; an empty string is described as such, not as "a string".
  const stringFields: readonly (readonly [key: "WorkingDir" | "User" | "StopSignal", form: string, ok: (v: string) => boolean])[] = [
    // Docker refuses to start a container whose working directory is relative.
    [
      "WorkingDir",
      `a non-empty string: an absolute path such as "/srv"${os === "windows" ? ' or "C:\\\\app"' : ""}`,
      (v) => v.startsWith("/") || (os === "windows" && /^[A-Za-z]:[\\/]/.test(v)),
    ],
    ["User", "a non-empty string in one of the forms user, uid, user:group or uid:gid", (v) => USER.test(v)],
    ["StopSignal", LINUX_SIGNAL_FORMS, isLinuxSignal],
  ];
  for (const [key, form, ok] of stringFields) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || !ok(value)) {
      const near = key === "StopSignal" && typeof value === "string" && value !== "" ? closestSignal(value) : undefined;
      fail(`config.${key}`, form, shown(value), near === undefined ? undefined : `; did you mean "${near}"?`);
    }
    config[key] = value as string;
  }
  const ports = raw["ExposedPorts"];
  if (ports !== undefined) {
    config.ExposedPorts = emptyObjectMap(ports, "config.ExposedPorts", "an object of ports to {} like { \"80/tcp\": {}, \"53/udp\": {} }", {
      form: "a port: PORT, PORT/tcp, PORT/udp or PORT/sctp with PORT from 1 to 65535",
      ok: isPort,
    }, fail);
  }
  const volumes = raw["Volumes"];
  if (volumes !== undefined) {
    config.Volumes = emptyObjectMap(volumes, "config.Volumes", "an object of absolute paths to {} like { \"/data\": {} }", {
      form: "an absolute path such as \"/data\"",
      ok: (k) => k.startsWith("/"),
    }, fail);
  }
  const labels = raw["Labels"];
  if (labels !== undefined) {
    if (!isPlainObject(labels)) fail("config.Labels", "an object of strings to strings like { \"org.opencontainers.image.version\": \"1.0\" }", labels);
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== "string") fail(`config.Labels${member(key)}`, "a string (label values are strings; write numbers and booleans quoted)", value);
    }
    config.Labels = { ...(labels as Record<string, string>) };
  }
  return config;
}

/** ExposedPorts and Volumes: keys of a given form, each to `{}` (the shape Docker's JSON has for a set). */
function emptyObjectMap(
  value: unknown,
  field: string,
  form: string,
  keys: { readonly form: string; readonly ok: (key: string) => boolean },
  fail: Fail,
): Record<string, Record<string, never>> {
  if (!isPlainObject(value)) return fail(field, form, value);
  const out: Record<string, Record<string, never>> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!keys.ok(key)) fail(`${field}[${quoted(key, 60)}]: the key`, keys.form, shown(key));
    if (!isPlainObject(v) || Object.keys(v).length > 0) {
      const fields = isPlainObject(v) ? Object.keys(v) : [];
      fail(`${field}[${quoted(key, 60)}]`, "{} (an empty object)", fields.length > 0 ? new Shown(`an object with the field ${quoted(fields[0] ?? "", 60)}`) : v);
    }
    out[key] = {};
  }
  return out;
}

function isPort(key: string): boolean {
  const m = PORT.exec(key);
  const port = m === null ? 0 : Number(m[1]);
  return port >= 1 && port <= 65535;
}

function isReferenceName(name: string): boolean {
  if (name.length === 0 || name.length > 255) return false;
  const parts = name.split("/");
  const first = parts[0] ?? "";
  const hasDomain = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasDomain && !DOMAIN.test(first)) return false;
  return parts.slice(hasDomain ? 1 : 0).every((p) => PATH_COMPONENT.test(p));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** For an array with one bad element, describes that element; otherwise the value itself. */
function badElement(value: unknown, ok: (e: unknown) => boolean): unknown {
  if (!Array.isArray(value)) return value;
  const index = value.findIndex((e) => !ok(e));
  return new BadElement(index, shown(value[index]));
}

/** A value the message shows as is (a wrong string of the right type, or a word like "an unknown field"). */
class Shown {
  constructor(readonly text: string) {}
}
function shown(value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (value === "") return new Shown("an empty string");
  return new Shown(JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value));
}


/** `.Name` for an identifier (as the user wrote it), else `["quoted key"]`. */
function member(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,59}$/.test(key) ? `.${key}` : `[${quoted(key, 60)}]`;
}

class BadElement {
  constructor(readonly index: number, readonly value: unknown) {}
}

/** A short description of what the user gave: `a string`, `an array`, `the number 2.5`. */
function describe(value: unknown): string {
  if (value instanceof BadElement) return `${describe(value.value)} at index ${value.index}`;
  if (value instanceof Shown) return value.text;
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string": return value === "" ? "an empty string" : "a string";
    case "number": return `the number ${String(value)}`;
    case "boolean": return `the boolean ${String(value)}`;
    case "object": return "an object";
    default: return `a ${typeof value}`;
  }
}
