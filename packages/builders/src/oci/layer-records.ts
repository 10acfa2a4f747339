import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

/** Each record of the layer cache under `cacheDir` (`layers/<key>.json`) with the blob digest it names, if it parses. */
export async function layerRecords(cacheDir: string): Promise<Array<{ path: string; digest: string | undefined }>> {
  const layersDir = join(cacheDir, "layers");
  const names = await readdir(layersDir).catch(() => [] as string[]);
  return Promise.all(
    names.map(async (name) => {
      const path = join(layersDir, name);
      const digest = await readFile(path, "utf8")
        .then((text) => (JSON.parse(text) as { digest?: unknown }).digest)
        .catch(() => undefined);
      return { path, digest: typeof digest === "string" ? digest : undefined };
    }),
  );
}
