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
}
