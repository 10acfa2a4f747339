import type { ImageConfig } from "./image-options.js";

/**
 * The config of an image built on a base: every field of the base config is kept unless `config` sets it;
 * `Env` is merged by name — one entry per name, the new value wins, each at the position where its name first
 * appeared (base order, then new names in the new order), as nixpkgs' streamLayeredImage does.
 */
export function mergeImageConfig(base: Record<string, unknown> | undefined, config: ImageConfig): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(base ?? {}), ...config };
  const baseEnv = Array.isArray(base?.["Env"]) ? (base["Env"] as unknown[]).filter((e): e is string => typeof e === "string") : [];
  if (config.Env !== undefined && baseEnv.length > 0) {
    const byName = new Map<string, string>();
    for (const entry of [...baseEnv, ...config.Env]) byName.set(envName(entry), entry);
    merged["Env"] = [...byName.values()];
  }
  return merged;
}

function envName(entry: string): string {
  const eq = entry.indexOf("=");
  return eq === -1 ? entry : entry.slice(0, eq);
}
