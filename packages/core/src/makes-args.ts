import type { MakesNode } from "./makes-node.js";

/**
 * The Debian packages of the host, `inputs.debian.coreutils`, or `inputs.debian.package(name, options)`
 * for options. Builders fill these in; core only names the shape.
 */
export interface Inputs {
  readonly debian: { readonly [name: string]: MakesNode } & {
    package(name: string, options?: { keepDocs?: boolean; exclude?: readonly string[] }): MakesNode;
  };
}

/**
 * What makes.ts's default export receives. The builders package declares the builder functions
 * (makeDerivation, makeScript, makeContainerImage, fetchUrl, ...) by augmenting this interface, so
 * `import type { MakesArgs } from "@makes/core"` is all a makes.ts needs.
 */
export interface MakesArgs {
  readonly inputs: Inputs;
  projectPath(path: string): MakesNode;
}
