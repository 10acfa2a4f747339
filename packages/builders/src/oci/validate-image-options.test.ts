import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "@makes/core";
import { validateImageOptions } from "./validate-image-options.js";
import { goArch } from "./host-platform.js";

const defaults = { name: "example/app", tag: "latest", jobLabel: "/myContainer" };
const ok = (raw: Record<string, unknown>, env: { SOURCE_DATE_EPOCH?: string } = {}) => validateImageOptions(raw, defaults, env);
const rejects = (raw: Record<string, unknown>, pattern: RegExp, env: { SOURCE_DATE_EPOCH?: string } = {}) => {
  assert.throws(() => validateImageOptions(raw, defaults, env), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.reason, "bad-argument");
    assert.ok(!err.message.includes("\n"), "one line");
    assert.match(err.message, /^makeContainerImage \(\/myContainer\): /);
    assert.match(err.message, pattern);
    return true;
  });
};

test("defaults: 65 layers, host architecture in Go names, fixed created (case 13)", () => {
  const o = ok({});
  assert.equal(o.maxLayers, 65);
  assert.equal(o.architecture, goArch());
  assert.ok(["amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64"].includes(o.architecture));
  assert.equal(o.os, process.platform === "linux" ? "linux" : o.os);
  assert.equal(o.created, "1970-01-01T00:00:01Z");
  assert.deepEqual(o.config, {});
  assert.equal(o.name, "example/app");
  assert.equal(o.tag, "latest");
});

test("goArch maps Node's names to Go's", () => {
  assert.equal(goArch("x64"), "amd64");
  assert.equal(goArch("arm64"), "arm64");
  assert.equal(goArch("ia32"), "386");
});

test("SOURCE_DATE_EPOCH sets created as RFC 3339 UTC; a bad one is an error", () => {
  assert.equal(ok({}, { SOURCE_DATE_EPOCH: "1700000000" }).created, "2023-11-14T22:13:20Z");
  assert.equal(ok({ created: "2020-01-02T03:04:05+01:00" }, { SOURCE_DATE_EPOCH: "5" }).created, "2020-01-02T03:04:05+01:00");
  rejects({}, /SOURCE_DATE_EPOCH must be a whole number/, { SOURCE_DATE_EPOCH: "yesterday" });
  rejects({ created: "1970-01-01 00:00:01" }, /created must be an RFC 3339 time/);
  rejects({ created: 5 }, /created must be an RFC 3339 time.*got the number 5/);
});

test("maxLayers of 0, -1 or 2.5 is a clear error (case 11)", () => {
  for (const bad of [0, -1, 2.5, "3"]) rejects({ maxLayers: bad }, /maxLayers must be a positive integer/);
  assert.equal(ok({ maxLayers: 3 }).maxLayers, 3);
});

test("config.Env as a string, ExposedPorts as an array, Entrypoint as a string: errors naming field and form (case 12)", () => {
  rejects({ config: { Env: "A=1" } }, /config\.Env must be an array of "NAME=value" strings, got a string$/);
  rejects({ config: { Env: ["A=1", "novalue"] } }, /config\.Env must be an array of "NAME=value" strings, got "novalue" at index 1$/);
  rejects({ config: { ExposedPorts: ["80/tcp"] } }, /config\.ExposedPorts must be an object of ports to \{\}.*got an array$/);
  rejects({ config: { ExposedPorts: { "80/xyz": {} } } }, /config\.ExposedPorts\["80\/xyz"\]/);
  rejects({ config: { Entrypoint: "/bin/sh" } }, /config\.Entrypoint must be an array of strings.*got a string$/);
  rejects({ config: { Cmd: ["ls", 3] } }, /config\.Cmd must be an array of strings.*got the number 3 at index 1$/);
  rejects({ config: { Labels: { a: 1 } } }, /config\.Labels\.a must be a string \(label values are strings; .*\), got the number 1$/);
  rejects({ config: { Labels: ["a=1"] } }, /config\.Labels must be an object of strings to strings.*, got an array$/);
  rejects({ config: { WorkingDir: 5 } }, /config\.WorkingDir must be a non-empty string/);
  rejects({ config: { Volumes: ["/data"] } }, /config\.Volumes must be an object/);
  rejects({ config: "x" }, /config must be an object/);
});

test("an unknown config field is an error listing the known ones", () => {
  rejects({ config: { Entrypoints: ["/bin/sh"] } }, /config\.Entrypoints must be one of the known fields \(Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal\)/);
});

test("a full valid config is kept as given", () => {
  const config = {
    Env: ["PATH=/bin", "EMPTY="],
    Entrypoint: ["/bin/app"],
    Cmd: ["--serve"],
    WorkingDir: "/srv",
    User: "1000:1000",
    StopSignal: "SIGRTMIN+3",
    ExposedPorts: { "80": {}, "80/tcp": {}, "53/udp": {} },
    Volumes: { "/data": {} },
    Labels: { "org.example.k": "v" },
  };
  assert.deepEqual(ok({ config }).config, config);
});

test("name and tag must be valid for a docker reference", () => {
  assert.equal(ok({ name: "example.com:5000/team/my-app", tag: "v1.0_rc-1" }).name, "example.com:5000/team/my-app");
  rejects({ name: "Example/App" }, /name must be a docker reference name.*got "Example\/App"/);
  rejects({ name: "" }, /name must be/);
  rejects({ tag: "-bad" }, /tag must be/);
  rejects({ tag: "a".repeat(129) }, /tag must be/);
  rejects({ tag: "has space" }, /tag must be/);
  rejects({ architecture: "x86 64" }, /architecture must be a Go GOARCH name/);
});

test("architecture and os are Go's names; an alias gets the Go name to use instead", () => {
  assert.equal(ok({ architecture: "arm64", os: "linux" }).architecture, "arm64");
  assert.equal(ok({ architecture: "386", os: "windows" }).os, "windows");
  const aliases: [string, string][] = [
    ["x86_64", "amd64"], ["x64", "amd64"], ["X86_64", "amd64"], ["aarch64", "arm64"], ["i386", "386"], ["i686", "386"], ["ia32", "386"],
    ["armhf", "arm"], ["armv7l", "arm"], ["ppc64el", "ppc64le"], ["AMD64", "amd64"], ["amd46", "amd64"],
  ];
  for (const [alias, goName] of aliases) {
    rejects({ architecture: alias }, new RegExp(`architecture must be a Go GOARCH name \\(amd64, arm64, arm, 386, .*\\), got "${alias}"; use "${goName}"$`));
  }
  rejects({ architecture: "sparc" }, /architecture must be a Go GOARCH name \(.*\), got "sparc"$/);
  rejects({ architecture: 64 }, /architecture must be a Go GOARCH name \(.*\), got the number 64$/);
  rejects({ os: "Linux" }, /os must be a Go GOOS name \(linux, windows, darwin, .*\), got "Linux"; use "linux"$/);
  rejects({ os: "macos" }, /os must be a Go GOOS name .*, got "macos"; use "darwin"$/);
  rejects({ os: "win32" }, /got "win32"; use "windows"$/);
  rejects({ os: "linux-gnu" }, /os must be a Go GOOS name/);
});

test("an unknown config field with a near known one suggests it", () => {
  rejects({ config: { Entrypoints: ["/bin/sh"] } }, /, got an unknown field; did you mean config\.Entrypoint\?$/);
  rejects({ config: { env: ["A=1"] } }, /config\.env must be one of the known fields .*; did you mean config\.Env\?$/);
  rejects({ config: { Healthcheck: {} } }, /config\.Healthcheck must be one of the known fields \(.*\), got an unknown field$/);
});

test("messages name what is wrong: the offending entry, an empty string as empty, the accepted forms", () => {
  rejects({ config: { Labels: { ok: "v", "org.x": true } } }, /config\.Labels\["org\.x"\] must be a string .*, got the boolean true$/);
  rejects({ config: { User: "" } }, /config\.User must be a non-empty string in one of the forms user, uid, user:group or uid:gid, got an empty string$/);
  rejects({ config: { User: "a:b:c" } }, /config\.User must be .* user:group or uid:gid, got "a:b:c"$/);
  rejects({ config: { User: 7 } }, /config\.User must be .*, got the number 7$/);
  rejects({ config: { WorkingDir: "" } }, /config\.WorkingDir must be a non-empty string: an absolute path such as "\/srv", got an empty string$/);
  rejects({ config: { WorkingDir: "srv" } }, /config\.WorkingDir must be .*an absolute path.*, got "srv"$/);
  rejects({ config: { StopSignal: "" } }, /config\.StopSignal must be a Linux signal: a name such as "SIGTERM" or "TERM" .* or its number from 1 to 64 as a string such as "15", got an empty string$/);
  rejects({ config: { ExposedPorts: { "80/xyz": {} } } }, /config\.ExposedPorts\["80\/xyz"\]: the key must be a port: PORT, PORT\/tcp, PORT\/udp or PORT\/sctp with PORT from 1 to 65535, got "80\/xyz"$/);
  rejects({ config: { ExposedPorts: { "80/tcp": { a: 1 } } } }, /config\.ExposedPorts\["80\/tcp"\] must be \{\} \(an empty object\), got an object with the field "a"$/);
  rejects({ config: { ExposedPorts: { "80/tcp": true } } }, /config\.ExposedPorts\["80\/tcp"\] must be \{\} \(an empty object\), got the boolean true$/);
  rejects({ config: { Volumes: { data: {} } } }, /config\.Volumes\["data"\]: the key must be an absolute path such as "\/data", got "data"$/);
  rejects({ maxLayers: "3" }, /maxLayers must be a positive integer, got "3"$/);
  rejects({ name: "Example/App" }, /got "Example\/App"; use "example\/app"$/);
  rejects({ name: "a".repeat(300) }, /; it has 300 characters, at most 255 are allowed$/);
  rejects({ name: "" }, /name must be .*, got an empty string$/);
  assert.equal(validateImageOptions({ os: "windows", architecture: "amd64", config: { WorkingDir: "C:\\app" } }, defaults, {}).config.WorkingDir, "C:\\app");
});

test("StopSignal: the signal names Docker knows on Linux, with or without SIG, or 1 to 64; anything else is refused naming the forms", () => {
  for (const signal of ["SIGTERM", "TERM", "sigterm", "SIGKILL", "SIGHUP", "SIGUSR1", "WINCH", "SIGSTKFLT", "SIGRTMIN", "SIGRTMIN+15", "RTMAX-14", "SIGRTMAX", "1", "9", "15", "64"]) {
    assert.equal(ok({ config: { StopSignal: signal } }).config.StopSignal, signal, signal);
  }
  for (const signal of ["SIGFOO", "FOO", "SIG", "SIGRTMIN+16", "SIGRTMAX-15", "SIGRTMIN-1", "0", "65", "015", "-9", "9.0", " SIGTERM", "SIGTERM ", "SIGEMT", "SIGINFO"]) {
    rejects({ config: { StopSignal: signal } }, new RegExp(`config\\.StopSignal must be a Linux signal: a name such as "SIGTERM" or "TERM" \\(any case; .*RTMIN\\+1 to RTMIN\\+15.*\\) or its number from 1 to 64 as a string such as "15", got ${JSON.stringify(signal).replace(/[+.]/g, "\\$&")}`));
  }
  rejects({ config: { StopSignal: "SIGTREM" } }, /, got "SIGTREM"; did you mean "SIGTERM"\?$/);
  rejects({ config: { StopSignal: 15 } }, /config\.StopSignal must be a Linux signal: .*, got the number 15$/);
});
