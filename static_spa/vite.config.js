import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "vite";

// `vite --mode development` / `vite build --mode development` swap the Amazon Connect widget for the
// development stand-in; every other mode (production builds, tests) leaves it out. A define, not
// import.meta.env.DEV, so that a development-mode *build* (served by the local stack) keeps the stand-in.
export default defineConfig(({ mode }) => ({
  // Development builds (dist-development/) get no staticwebapp.config.json: the Static Web Apps CLI that azd runs
  // searches all of static_spa/ for that name and keeps the last one, so only dist/ may hold one.
  plugins: mode === "development" ? [] : [shipStaticWebAppConfig()],
  define: {
    __CONNECT_DEVELOPMENT_WIDGET__: JSON.stringify(mode === "development"),
  },
  build: {
    target: "es2022",
    sourcemap: false,
    rolldownOptions: {
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        redirect: resolve(import.meta.dirname, "redirect.html"),
      },
    },
  },
  server: { host: "localhost", port: 5173, strictPort: true },
  preview: { host: "localhost", port: 5173, strictPort: true },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.js"],
  },
}));

// Azure Static Web Apps reads staticwebapp.config.json from the deployed folder. The source is kept as
// staticwebapp.base.json so that the built copy (narrowed by scripts/csp.mjs at deploy time) is the only file of
// that name under static_spa/.
const STATIC_WEB_APP_BASE = "staticwebapp.base.json";

function shipStaticWebAppConfig() {
  return {
    name: "ship-staticwebapp-config",
    apply: "build",
    generateBundle() {
      this.emitFile({
        type: "asset",
        fileName: "staticwebapp.config.json",
        source: readFileSync(resolve(import.meta.dirname, STATIC_WEB_APP_BASE), "utf8"),
      });
    },
  };
}
