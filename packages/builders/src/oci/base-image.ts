/** A content descriptor as in the OCI image spec. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BaseLayer {
  /** The layer as stored: its blob is reused unchanged in the new image. */
  descriptor: Descriptor;
  /** sha256:<hex> of the uncompressed layer (from the base config's rootfs.diff_ids). */
  diffId: string;
  /** A file holding the blob's exact bytes. */
  blobPath: string;
}

/** A fromImage, read by readBaseImage: its layers bottom first and its parsed image config. */
export interface BaseImage {
  layers: BaseLayer[];
  config: Record<string, unknown>;
}
