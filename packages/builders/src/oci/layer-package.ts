/** One store path as the image writer sees it. */
export interface LayerPackage {
  /** The store hash: stable across machines, used for layer cache keys and ordering ties. */
  id: string;
  /** Human name, used in history comments, warnings and popularity ties. */
  name: string;
  /** Absolute directory whose contents go at `/` of the image. */
  dir: string;
  /** Ids of the packages it depends on at run time (all present in the same closure). */
  refs: string[];
  /**
   * The recorded digest of the path's content, part of the layer cache key beside the id: a path rebuilt
   * under the same hash with other content (in a store moved elsewhere, see StoreMeta.spellsRoot) misses.
   */
  contentDigest?: string;
}
