import { closestName } from "@makes/core";

/**
 * The image-spec (config.md, `architecture` and `os`) says configs SHOULD use Go's GOARCH and GOOS values, and
 * Docker, containerd and the registries match platforms by them: an image marked `x86_64` is refused. The
 * lists are the ports of `go tool dist list` (Go 1.22), not Go's reserved names (internal/syslist), which
 * include architectures no toolchain builds for.
 */
export const GOARCH_NAMES: readonly string[] = [
  "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "mips64", "mipsle", "mips", "loong64", "ppc64", "wasm",
];

export const GOOS_NAMES: readonly string[] = [
  "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "illumos", "solaris", "aix", "android", "ios", "plan9", "js", "wasip1",
];

/** Names other tools use (uname -m, Node's process.arch, Debian's dpkg, Rust's target triples) for the Go ones. */
const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: "amd64", "x86-64": "amd64", x64: "amd64",
  aarch64: "arm64", arm64v8: "arm64", armv8: "arm64",
  i386: "386", i486: "386", i586: "386", i686: "386", ia32: "386", x86: "386",
  armhf: "arm", armv7l: "arm", armv7: "arm", arm32v7: "arm",
  ppc64el: "ppc64le", mips64el: "mips64le", mipsel: "mipsle", loongarch64: "loong64", wasm32: "wasm",
};

const OS_ALIASES: Readonly<Record<string, string>> = {
  win32: "windows", win: "windows", win64: "windows",
  macos: "darwin", macosx: "darwin", osx: "darwin", mac: "darwin",
  sunos: "solaris",
};

/** The Go name a user most likely meant by `value`, or undefined: an alias, another case, or a typo. */
export function suggestGoName(value: string, field: "architecture" | "os"): string | undefined {
  const names = field === "architecture" ? GOARCH_NAMES : GOOS_NAMES;
  const aliases = field === "architecture" ? ARCH_ALIASES : OS_ALIASES;
  const lower = value.toLowerCase();
  return Object.hasOwn(aliases, lower) ? aliases[lower] : closestName(value, names);
}
