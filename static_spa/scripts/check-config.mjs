#!/usr/bin/env node
// Runs the page's own config.json validator (src/config.js) for the programs that write or inspect a config.json
// outside the browser: the azd predeploy/preprovision hook (infra/azure/hooks/write_spa_config.py) and the doctor
// (connect_sso_admin/doctor/page.py). So the page's rules have one home and every checker applies them.
//   node scripts/check-config.mjs < config.json
//   node scripts/check-config.mjs dist/config.json
// Prints {"ok": true, "config": <normalised>} and exits 0, or {"ok": false, "problems": [{field, message}]} and
// exits 1. Any other exit (no JSON on stdout) is a fault of this script, not of the document.
import { readFileSync } from "node:fs";
import { ConfigError, validateConfig } from "../src/config.js";

function check(text) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problems: [{ field: "config.json", message: "is not valid JSON." }] };
  }
  try {
    return { ok: true, config: validateConfig(raw) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { ok: false, problems: error.problems };
  }
}

const answer = check(readFileSync(process.argv[2] ?? 0, "utf8"));
process.stdout.write(`${JSON.stringify(answer)}\n`);
process.exitCode = answer.ok ? 0 : 1;
