// Bundles an app (run from its folder) into dist/: src/main.ts by default, or the entry points
// given as arguments. Our libs are compiled in; every third-party package stays an external
// require() of node_modules.
import path from "node:path";
import { build } from "esbuild";

const ours = /^@herald\//;
const entries = process.argv.slice(2);

await build({
  entryPoints: entries.length > 0 ? entries : ["src/main.ts"],
  outdir: "dist",
  outbase: "src",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  logLevel: "warning",
  absWorkingDir: path.resolve("."),
  plugins: [
    {
      name: "externals",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (ours.test(args.path) ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
