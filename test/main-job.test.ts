/**
 * The repository's own makes.ts, as the README runs it: /myContainer (the seed's image) and /helloServer
 * (a Node.js server image), checked with the real consumers and run from the unpacked root with chroot.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { REPO, runMakes, shown, stdoutLines, tempDir, waitFor } from "./helpers/project.ts";

const isRoot = process.getuid?.() === 0;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function buildJob(t: { after(fn: () => unknown): void }, job: string): Promise<{ path: string; store: string }> {
  const store = await tempDir(t, "makes-main-store-");
  const r = await runMakes(REPO, ["run", job, "--store", store, "--reporter", "plain"], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, shown(r));
  const lines = stdoutLines(r);
  assert.equal(lines.length, 1, shown(r));
  return { path: lines[0] ?? "", store };
}

async function imageConfig(path: string): Promise<{ history: Array<{ comment?: string }> }> {
  const blob = async (digest: string): Promise<unknown> => JSON.parse(await readFile(join(path, "blobs", "sha256", digest.replace(/^sha256:/, "")), "utf8"));
  const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const manifest = (await blob(index.manifests[0]?.digest ?? "")) as { config: { digest: string } };
  return (await blob(manifest.config.digest)) as { history: Array<{ comment?: string }> };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

test("makes run /myContainer: an image that oci-image-tool, umoci and skopeo accept, and that runs", { timeout: 300_000 }, async (t) => {
  const { path } = await buildJob(t, "/myContainer");
  const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests: Array<{ annotations: Record<string, string> }> };
  assert.equal(index.manifests[0]?.annotations["org.opencontainers.image.ref.name"], "latest");
  const docker = JSON.parse(await readFile(join(path, "manifest.json"), "utf8")) as Array<{ RepoTags: string[] }>;
  assert.deepEqual(docker[0]?.RepoTags, ["mycontainer:latest"]);
  assert.match(sh("oci-image-tool", ["validate", "--type", "image", path]), /Validation succeeded/);
  // layers: [coreutils, custom-layer]: coreutils' closure at the bottom, then coreutils, the derivation on top
  const history = (await imageConfig(path)).history.map((h) => h.comment ?? "");
  assert.equal(history.at(-1), "store paths: custom-layer", history.join(" | "));
  assert.equal(history.at(-2), "store paths: coreutils", history.join(" | "));

  const work = await tempDir(t, "makes-main-");
  sh("skopeo", ["copy", `oci:${path}:latest`, `docker-archive:${join(work, "copy.tar")}:mycontainer:latest`]);
  const inspected = JSON.parse(sh("skopeo", ["inspect", `docker-archive:${join(work, "copy.tar")}`])) as { Env: string[]; Layers: string[] };
  assert.ok(inspected.Env.includes("EXAMPLE_ENV_VAR=example-value"), inspected.Env.join(","));
  assert.ok(inspected.Layers.length >= 2);

  if (!isRoot) return t.skip("umoci unpack and chroot need root");
  const bundle = join(work, "bundle");
  sh("umoci", ["unpack", "--image", `${path}:latest`, bundle]);
  const rootfs = join(bundle, "rootfs");
  assert.equal(sh("chroot", [rootfs, "/bin/ls", "/working-dir"]).trim(), "my-file");
  assert.equal(sh("chroot", [rootfs, "/bin/cat", "/working-dir/my-file"]).trim(), "my-file-contents");
  const top = sh("chroot", [rootfs, "/bin/ls", "/"]).split("\n");
  for (const dir of ["bin", "usr", "working-dir"]) assert.ok(top.includes(dir), `ls / shows ${dir}: ${top.join(" ")}`);
  const config = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as { process: { cwd: string; env: string[] } };
  assert.equal(config.process.cwd, "/working-dir");
});

test("makes run /helloServer: Debian's nodejs without python3 runs the app from the unpacked root", { timeout: 300_000 }, async (t) => {
  if (!existsSync("/usr/bin/node") || !existsSync("/var/lib/dpkg/info/nodejs.list")) return t.skip("the host has no Debian nodejs package");
  const { path } = await buildJob(t, "/helloServer");
  assert.match(sh("oci-image-tool", ["validate", "--type", "image", path]), /Validation succeeded/);
  if (!isRoot) return t.skip("umoci unpack and chroot need root");
  const work = await tempDir(t, "makes-server-");
  const bundle = join(work, "bundle");
  sh("umoci", ["unpack", "--image", `${path}:latest`, bundle]);
  const rootfs = join(bundle, "rootfs");
  assert.ok(!existsSync(join(rootfs, "usr", "bin", "python3")), "python3 was excluded");
  assert.equal(sh("chroot", [rootfs, "/usr/bin/node", "-e", "console.log(6 * 7)"]).trim(), "42");

  const port = await freePort();
  const server = spawn("/usr/sbin/chroot", [rootfs, "/usr/bin/node", "/app/server.mjs"], { env: { PORT: String(port), HOST: "127.0.0.1" }, stdio: "ignore" });
  t.after(() => server.kill("SIGKILL"));
  let body = "";
  await waitFor("the server in the image to answer", async () => {
    try {
      body = await (await fetch(`http://127.0.0.1:${port}/ping`)).text();
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  assert.match(body, /hello from makes \(GET \/ping\)/);
});
