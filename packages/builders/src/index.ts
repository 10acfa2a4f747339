export { makeDerivation } from "./make-derivation.js";
export type { DerivationArgs } from "./make-derivation.js";
export { makeScript } from "./make-script.js";
export type { ScriptArgs } from "./make-script.js";
export { DerivationNode } from "./derivation-node.js";
export { ScriptNode } from "./script-node.js";
export { createMakesArgs } from "./make-args.js";
export type { EnvValue } from "./node-values.js";
