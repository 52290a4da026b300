import { defineConfig } from "vite";

// The explorer is built into app/static/explorer (committed), so serving it needs no Node.
// ATLAS_EXPLORER_OUT lets the test suite build elsewhere and compare with what is committed.
export default defineConfig({
  root: "explorer",
  base: "/static/explorer/",
  logLevel: "warn",
  build: {
    outDir: process.env.ATLAS_EXPLORER_OUT ?? "../../app/static/explorer",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    target: "es2022",
    reportCompressedSize: false,
  },
});
