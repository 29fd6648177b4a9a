// @vitest-environment node
// Builds the page for real (Vite) and reads the output: the development stand-in must exist only in
// development builds, and production must bundle MSAL rather than load it from a CDN.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { build } from "vite";
import { DEVELOPMENT_MARKER } from "../src/dev/development-widget.js";

const root = resolve(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "spa-build-"));

async function buildInto(mode) {
  const outDir = join(scratch, mode);
  await build({ root, mode, logLevel: "silent", build: { outDir, emptyOutDir: true } });
  const files = readdirSync(outDir, { recursive: true }).filter((f) => /\.(js|html|css|json)$/.test(f));
  return { outDir, files, text: files.map((f) => readFileSync(join(outDir, f), "utf8")).join("\n") };
}

let production;
let development;
beforeAll(async () => {
  production = await buildInto("production");
  development = await buildInto("development");
}, 60_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("vite build", () => {
  it("leaves the development stand-in out of production builds", () => {
    // Booleans, so that a failure does not print the whole bundle.
    expect(production.text.includes(DEVELOPMENT_MARKER)).toBe(false);
    expect(/Development only/.test(production.text)).toBe(false);
    expect(production.files.some((f) => f.includes("development"))).toBe(false);
  });

  it("keeps it in development builds (the local stack serves one)", () => {
    expect(development.text.includes(DEVELOPMENT_MARKER)).toBe(true);
    expect(development.files.some((f) => f.includes("development-widget"))).toBe(true);
  });

  it("builds both pages with MSAL bundled, and ships staticwebapp.config.json", () => {
    expect(production.files).toEqual(expect.arrayContaining(["index.html", "redirect.html", "staticwebapp.config.json"]));
    const html = readFileSync(join(production.outDir, "index.html"), "utf8") + readFileSync(join(production.outDir, "redirect.html"), "utf8");
    expect(html).not.toMatch(/<script(?![^>]*type="module")/); // no classic or inline scripts: the CSP forbids them
    expect(html).not.toMatch(/https?:\/\//);
    expect(production.text.includes("acquireTokenSilent")).toBe(true);
  });

  it("ships staticwebapp.config.json only in production builds, copied from staticwebapp.base.json", () => {
    // The Static Web Apps CLI keeps the last staticwebapp.config.json it finds under static_spa/: a development
    // build in dist-development/ must not add a second one.
    expect(development.files).not.toContain("staticwebapp.config.json");
    const shipped = readFileSync(join(production.outDir, "staticwebapp.config.json"), "utf8");
    expect(shipped).toBe(readFileSync(join(root, "staticwebapp.base.json"), "utf8"));
  });

  it("never writes tokens to the console in page code", () => {
    const pageSources = readdirSync(join(root, "src"), { recursive: true }).filter((f) => f.endsWith(".js"));
    for (const file of pageSources) {
      expect(readFileSync(join(root, "src", file), "utf8")).not.toMatch(/console\./);
    }
  });
});
