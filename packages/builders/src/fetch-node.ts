import { join } from "node:path";
import { MakesNode, type BuildContext, type Fingerprint, type FingerprintContext } from "@makes/core";
import { downloadFile } from "./fetch/download-file.js";
import { validateFetchArgs, type FetchArgs, type FetchBuilderName } from "./fetch/validate-fetch-args.js";

/**
 * `fetchUrl` / `fetchArchive`: fixed-output nodes. The hash covers the promised sha256 (and the name
 * and whether it is unpacked), not the URL: a mirror with the same bytes is the same input, as in Nix.
 * The download is checked against sha256 before anything is stored.
 */
export class FetchNode extends MakesNode {
  readonly kind = "fetch";

  constructor(
    readonly args: FetchArgs,
    readonly builder: FetchBuilderName,
  ) {
    super(args.name);
  }

  deps(): readonly MakesNode[] {
    return [];
  }

  async fingerprint(_ctx: FingerprintContext): Promise<Fingerprint> {
    return {
      key: { sha256: this.args.sha256, unpack: this.builder === "fetchArchive" },
      inputs: { url: this.args.url, sha256: this.args.sha256 },
    };
  }

  async build(ctx: BuildContext): Promise<void> {
    const label = `${this.builder} ${this.args.url}`;
    ctx.log(`downloading ${this.args.url}\n`);
    if (this.builder === "fetchUrl") {
      const { size } = await downloadFile({ url: this.args.url, sha256: this.args.sha256, dest: ctx.out, signal: ctx.signal, label });
      ctx.log(`${size} bytes, sha256 ${this.args.sha256}\n`);
      return;
    }
    const archive = join(ctx.tmpDir, "download");
    await downloadFile({ url: this.args.url, sha256: this.args.sha256, dest: archive, signal: ctx.signal, label });
    const { unpackArchive } = await import("./fetch/unpack-archive.js"); // tar and zip code: loaded on first use
    const result = await unpackArchive(archive, ctx.out, undefined, label);
    ctx.log(`unpacked ${result.kind}${result.strippedRoot === undefined ? "" : ` (stripped ${result.strippedRoot}/)`}\n`);
  }
}

export function fetchUrl(args: { url: string; sha256: string; name?: string }): FetchNode {
  return new FetchNode(validateFetchArgs(args, "fetchUrl"), "fetchUrl");
}

export function fetchArchive(args: { url: string; sha256: string; name?: string }): FetchNode {
  return new FetchNode(validateFetchArgs(args, "fetchArchive"), "fetchArchive");
}
