import { SourceTreeNode, type MakesArgs } from "@makes/core";
import { makeDerivation } from "./make-derivation.js";
import { makeScript } from "./make-script.js";

declare module "@makes/core" {
  interface MakesArgs {
    makeDerivation: typeof makeDerivation;
    makeScript: typeof makeScript;
  }
}

/** The object makes.ts's default export is called with. */
export function createMakesArgs(): MakesArgs {
  return {
    makeDerivation,
    makeScript,
    projectPath: (path: string) => new SourceTreeNode(path),
    inputs: { debian: undefined as never },
  };
}
