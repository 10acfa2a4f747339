import type { MakesNode } from "./makes-node.js";

/**
 * Interpolating a node into a string (`${dep}`) yields a token that stands for the node. Strings that
 * builders receive are scanned for tokens: that is how references are recorded, how the hash uses the
 * dep's hash instead of a path, and how the real store path is put in at build time.
 * The token holds a per-process serial, never anything that reaches a hash.
 */
const TOKEN_PATTERN = /\u{1F4E6}makes:(\d+)\u{1F4E6}/gu;
const registry: MakesNode[] = [];

export function registerNode(node: MakesNode): string {
  registry.push(node);
  return `\u{1F4E6}makes:${registry.length - 1}\u{1F4E6}`;
}

/** The nodes a string refers to, in order of first appearance. */
export function nodesIn(text: string): MakesNode[] {
  const found: MakesNode[] = [];
  for (const match of text.matchAll(TOKEN_PATTERN)) {
    const node = registry[Number(match[1])];
    if (node !== undefined && !found.includes(node)) found.push(node);
  }
  return found;
}

/** Replaces every token in `text` with what `replace` gives for its node. */
export function replaceTokens(text: string, replace: (node: MakesNode) => string): string {
  return text.replace(TOKEN_PATTERN, (whole, index: string) => {
    const node = registry[Number(index)];
    return node === undefined ? whole : replace(node);
  });
}
