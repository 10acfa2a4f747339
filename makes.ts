// The project's own jobs: examples of each builder, and the seed's /myContainer.
import type { MakesArgs } from "@makes/core";

export default ({ makeDerivation, makeScript, projectPath }: MakesArgs) => {
  const greeting = makeDerivation({
    name: "greeting",
    env: { WHO: "world" },
    builder: `mkdir -p $out && echo "hello, $WHO" > $out/greeting.txt`,
  });
  const site = makeDerivation({
    name: "site",
    env: { src: projectPath("/web"), greeting },
    builder: `mkdir -p $out/srv && cp -r $src/. $out/srv/ && cp $greeting/greeting.txt $out/srv/`,
  });
  return {
    jobs: {
      "/greeting": greeting,
      "/site": site,
      "/hello": makeScript({ name: "hello", entrypoint: `cat ${greeting}/greeting.txt; echo "args: $*"` }),
    },
  };
};
