/** A node as reporters see it. */
export interface NodeInfo {
  readonly hash: string;
  readonly name: string;
  readonly kind: string;
  /** The job name when the node is a job, else the node's name. */
  readonly label: string;
  readonly path: string;
}

/** Everything the engine tells reporters. Reporters render; the engine never prints. */
export type MakesEvent =
  | { readonly type: "run-started"; readonly jobs: readonly string[]; readonly total: number; readonly concurrency: number }
  | {
      readonly type: "node-cached";
      readonly node: NodeInfo;
      /** Early cutoff: the output was copied from this store path, built from the same inputs by content. */
      readonly reusedFrom?: string | undefined;
    }
  | { readonly type: "node-started"; readonly node: NodeInfo }
  | { readonly type: "node-built"; readonly node: NodeInfo; readonly durationMs: number; readonly stats?: Readonly<Record<string, number>> }
  | { readonly type: "node-failed"; readonly node: NodeInfo; readonly message: string; readonly detail?: string | undefined; readonly logPath?: string | undefined }
  | { readonly type: "node-skipped"; readonly node: NodeInfo; readonly because: string }
  | { readonly type: "node-would-build"; readonly node: NodeInfo }
  | { readonly type: "node-log"; readonly node: NodeInfo; readonly text: string }
  | { readonly type: "warning"; readonly message: string; readonly node?: NodeInfo | undefined }
  | {
      readonly type: "run-finished";
      readonly built: number;
      readonly cached: number;
      readonly failed: number;
      readonly skipped: number;
      readonly durationMs: number;
    };

export type EventSink = (event: MakesEvent) => void;
