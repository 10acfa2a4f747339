// The project's own jobs: one example of each builder, the seed's /myContainer, and a Node.js server image.
import type { MakesArgs } from "@makes/core";

export default ({ inputs, makeContainerImage, makeDerivation, makeScript, projectPath }: MakesArgs) => {
  const greeting = makeDerivation({
    name: "greeting",
    env: { WHO: "world" },
    builder: `mkdir -p "$out" && echo "hello, $WHO" > "$out/greeting.txt"`,
  });
  const site = makeDerivation({
    name: "site",
    env: { src: projectPath("/web"), greeting },
    builder: `mkdir -p "$out/srv" && cp -r "$src/." "$out/srv/" && cp "$greeting/greeting.txt" "$out/srv/"`,
  });
  // The application's files at /app of the image.
  const app = makeDerivation({
    name: "hello-server",
    env: { src: projectPath("/examples/hello-server") },
    builder: `mkdir -p "$out/app" && cp -r "$src/." "$out/app/"`,
  });
  return {
    jobs: {
      "/greeting": greeting,
      "/site": site,
      "/hello": makeScript({ name: "hello", entrypoint: `cat "${greeting}/greeting.txt"; echo "args: $*"` }),
      // The seed's example (fluidattacks/makes makeContainerImage), with the host's Debian coreutils
      // where the seed has inputs.nixpkgs.coreutils.
      "/myContainer": makeContainerImage({
        config: {
          Env: [
            // Do not use this for sensitive values, it's not safe.
            "EXAMPLE_ENV_VAR=example-value",
          ],
          WorkingDir: "/working-dir",
        },
        layers: [
          inputs.debian.coreutils, // ls, cat, etc
          makeDerivation({
            name: "custom-layer",
            builder: `
              # $out represents the final container root file system: /
              #
              # The following commands are equivalent in Docker to:
              #   RUN mkdir /working-dir
              #   RUN echo my-file-contents > /working-dir/my-file
              #
              mkdir -p "$out/working-dir"
              echo my-file-contents > "$out/working-dir/my-file"
            `,
          }),
        ],
      }),
      // A small Node.js HTTP server shipped without Docker: Debian's nodejs (without python3) and the app.
      "/helloServer": makeContainerImage({
        layers: [inputs.debian.package("nodejs", { exclude: ["python3"] }), app],
        config: { Entrypoint: ["/usr/bin/node", "/app/server.mjs"], Env: ["PORT=8080"], ExposedPorts: { "8080/tcp": {} }, WorkingDir: "/app" },
      }),
    },
  };
};
