import type { Canonical } from "./canonical-hash.js";
import type { Fingerprint } from "./makes-node.js";

/**
 * A fingerprint whose `inputs` are made on first read, once: they are read only for a build's record and by
 * `makes why`, so a cached run of thousands of nodes never makes them.
 */
export function fingerprintOf(key: Canonical, makeInputs: () => Record<string, string>): Fingerprint {
  let inputs: Record<string, string> | undefined;
  return {
    key,
    get inputs() {
      inputs ??= makeInputs();
      return inputs;
    },
  };
}
