/**
 * An image of the host's Debian packages and the user's own derivation, as a new user writes it: the
 * derivation is the top layer (it overrides the packages' files), and its Nix-style bin/ neither replaces
 * nor is hidden by the packages' merged-/usr `/bin -> usr/bin` link. Checked with umoci unpack and chroot.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { lstat, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeProject, runMakes, shown, stdoutLines, tempDir } from "./helpers/project.ts";

const isRoot = process.getuid?.() === 0;

/** A configuration file of libc6 (in coreutils' closure): /etc/ld.so.conf.d/<triplet>.conf. */
function libcConfFile(): string | undefined {
  const list = readdirSync("/var/lib/dpkg/info").find((f) => /^libc6(:[a-z0-9]+)?\.list$/.test(f));
  if (list === undefined) return undefined;
  return readFileSync(join("/var/lib/dpkg/info", list), "utf8").split("\n").find((l) => /^\/etc\/ld\.so\.conf\.d\/.+\.conf$/.test(l));
}

test("coreutils and dash with a derivation that has bin/mytool and etc files: /bin stays a link, the derivation is on top", { timeout: 240_000 }, async (t) => {
  const conf = libcConfFile();
  if (conf === undefined || !existsSync("/var/lib/dpkg/info/coreutils.list") || !existsSync("/var/lib/dpkg/info/dash.list")) {
    return t.skip("the host has no Debian coreutils, dash and libc6");
  }
  const dir = await makeProject(t, {
    "makes.ts": `
export default ({ inputs, makeDerivation, makeContainerImage }) => {
  const mine = makeDerivation({
    name: "mine",
    builder: \`
      mkdir -p "$out/bin" "$out/etc/ld.so.conf.d"
      printf '#!/bin/sh\\necho "mytool ran: $(cat /etc/motd)"\\n' > "$out/bin/mytool"
      chmod 755 "$out/bin/mytool"
      echo "motd of mine" > "$out/etc/motd"
      echo "# conf of mine" > "$out${conf}"
    \`,
  });
  return { jobs: { "/image": makeContainerImage({ layers: [inputs.debian.coreutils, inputs.debian.dash, mine] }) } };
};
`,
  });
  const r = await runMakes(dir, ["run", "/image", "--reporter", "plain"], { timeoutMs: 200_000 });
  assert.equal(r.code, 0, shown(r));
  assert.doesNotMatch(r.stderr, /warning/i, shown(r));
  const path = stdoutLines(r)[0] ?? "";
  assert.match(execFileSync("oci-image-tool", ["validate", "--type", "image", path], { encoding: "utf8" }), /Validation succeeded/);
  const index = JSON.parse(await readFile(join(path, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
  const blob = (digest: string): string => join(path, "blobs", "sha256", digest.replace(/^sha256:/, ""));
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]?.digest ?? ""), "utf8")) as { config: { digest: string }; layers: Array<{ digest: string }> };
  const config = JSON.parse(await readFile(blob(manifest.config.digest), "utf8")) as { history: Array<{ comment?: string }> };
  assert.equal(config.history.at(-1)?.comment, "store paths: mine", "the user's derivation is the top layer");
  // the derivation's layer, as GNU tar reads it: its bin/ is written as usr/bin/, no bin/ entry
  const top = execFileSync("tar", ["-tzf", blob(manifest.layers.at(-1)?.digest ?? "")], { encoding: "utf8" }).split("\n");
  assert.ok(top.includes("usr/bin/mytool") && !top.includes("bin/") && !top.includes("bin/mytool"), top.join(" "));

  if (!isRoot) return t.skip("umoci unpack and chroot need root");
  const bundle = join(await tempDir(t, "makes-debian-layers-"), "bundle");
  execFileSync("umoci", ["unpack", "--image", `${path}:latest`, bundle]);
  const rootfs = join(bundle, "rootfs");
  assert.ok((await lstat(join(rootfs, "bin"))).isSymbolicLink());
  assert.equal(await readlink(join(rootfs, "bin")), "usr/bin");
  const chroot = (...args: string[]): string => execFileSync("chroot", [rootfs, ...args], { encoding: "utf8" });
  assert.equal(chroot("/bin/mytool"), "mytool ran: motd of mine\n");
  const listing = chroot("/bin/ls", "/").split("\n");
  for (const name of ["bin", "etc", "lib", "usr"]) assert.ok(listing.includes(name), `ls / shows ${name}: ${listing.join(" ")}`);
  assert.equal(chroot("/bin/sh", "-c", "echo shell ok"), "shell ok\n");
  assert.equal(chroot("/bin/cat", conf), "# conf of mine\n", `the top layer's ${conf} overrides libc6's`);
});
