import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The console is served by the gateway at /console/: every asset is a file of its own (no inline
// script or style, so it runs under `script-src 'self'; style-src 'self'`), hashed for caching.
export default defineConfig({
  base: "/console/",
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    reportCompressedSize: false,
  },
});
