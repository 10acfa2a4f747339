/** Written last, after the output is in place: a store path is valid exactly when this exists. */
export interface StoreMeta {
  readonly format: 1;
  readonly hash: string;
  readonly name: string;
  readonly kind: string;
  /** The label of the node when it was built (a job name or the node's name). */
  readonly label: string;
  readonly contentDigest: string;
  readonly size: number;
  readonly builtAt: string;
  readonly durationMs: number;
  /** Hashes of the store paths this one was built from: kept alive together by `makes gc`. */
  readonly deps: readonly string[];
  readonly runtimeDeps: readonly string[];
  /** The inputs as recorded for `makes why`. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Names of the deps (hash → label), so `why` can name a changed dependency. */
  readonly depLabels: Readonly<Record<string, string>>;
  readonly stats?: Readonly<Record<string, number>>;
  /** Early cutoff: the hash of the store path this output was copied from instead of being built. */
  readonly reusedFrom?: string;
  /** The store's root when this path was built (absolute). */
  readonly root?: string;
  /**
   * Whether the output may spell the store's location: a file or link target of it names `<root>/store/`, or a
   * dependency's output did (it may be inside this one, compressed or encoded where no search sees it). Such a
   * path is valid only in a store at `root`: a store that was moved or restored elsewhere rebuilds it.
   */
  readonly spellsRoot?: boolean;
}

/** What a job was last built as: the hash of every node of its closure, for `makes why`. */
export interface JobRecord {
  readonly format: 1;
  readonly job: string;
  readonly hash: string;
  /** Node identity in the graph (see `nodeKeyOf`) → hash. */
  readonly closure: Readonly<Record<string, string>>;
}
