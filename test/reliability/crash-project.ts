/** The project the crash tests kill and recover (crash.test.ts, crash-states.test.ts). */

/** Five derivations (two independent, two in the middle, one on top), each writing ~0.6 MB in steps, and an image of them. */
export const CRASH_MAKES_TS = `
export default ({ makeDerivation, makeContainerImage }: any) => {
  const mk = (name: string, deps: Record<string, unknown>) =>
    makeDerivation({
      name,
      env: deps,
      builder: [
        \`mkdir -p $out/share/\${name} $out/bin\`,
        \`for i in 1 2 3; do shuf -i 1-1000000 -n 30000 --random-source=<(yes \${name}$i) > $out/share/\${name}/data$i.txt; sleep 0.03; done\`,
        \`printf '#!/bin/sh\\\\necho \${name}\\\\n' > $out/bin/\${name} && chmod 0755 $out/bin/\${name}\`,
        \`ln -s data1.txt $out/share/\${name}/current\`,
        \`for d in \${Object.keys(deps).map((k) => '"$' + k + '"').join(" ")}; do ls "$d/share" >> $out/share/\${name}/deps; done\`,
      ].join("\\n"),
    });
  const a = mk("a", {}), b = mk("b", {});
  const c = mk("c", { A: a }), d = mk("d", { A: a, B: b });
  const e = mk("e", { C: c, D: d });
  return { jobs: { "/top": e, "/image": makeContainerImage({ layers: [e, d, c, b, a], config: { Env: ["APP=crash"], Cmd: ["/bin/e"] } }) } };
};
`;
