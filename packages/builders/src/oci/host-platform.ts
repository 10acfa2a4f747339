import { endianness } from "node:os";

/** Node's process.arch in Go's GOARCH names (what OCI `architecture` uses). */
export function goArch(arch: string = process.arch): string {
  switch (arch) {
    case "x64": return "amd64";
    case "ia32": return "386";
    case "arm64": return "arm64";
    case "arm": return "arm";
    case "ppc64": return endianness() === "LE" ? "ppc64le" : "ppc64";
    case "mipsel": return "mipsle";
    case "mips64el": return "mips64le";
    default: return arch; // s390x, riscv64, loong64, mips, ppc share their Go names
  }
}

/** Node's process.platform in Go's GOOS names (what OCI `os` uses). */
export function goOs(platform: string = process.platform): string {
  switch (platform) {
    case "win32": return "windows";
    case "sunos": return "solaris";
    default: return platform; // linux, darwin, freebsd, openbsd, aix share their Go names
  }
}
