import { SourceTreeNode, type MakesArgs } from "@makes/core";
import { debianInputs } from "./debian-inputs.js";
import { fetchArchive, fetchUrl } from "./fetch-node.js";
import { makeContainerImage } from "./make-container-image.js";
import { makeDerivation } from "./make-derivation.js";
import { makeScript } from "./make-script.js";

declare module "@makes/core" {
  interface MakesArgs {
    makeDerivation: typeof makeDerivation;
    makeScript: typeof makeScript;
    makeContainerImage: typeof makeContainerImage;
    fetchUrl: typeof fetchUrl;
    fetchArchive: typeof fetchArchive;
  }
}

/** The object makes.ts's default export is called with. */
export function createMakesArgs(): MakesArgs {
  return {
    makeDerivation,
    makeScript,
    makeContainerImage,
    fetchUrl,
    fetchArchive,
    projectPath: (path: string) => new SourceTreeNode(path),
    inputs: { debian: debianInputs },
  };
}
