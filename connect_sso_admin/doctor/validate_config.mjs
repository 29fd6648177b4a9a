// Runs the chat page's own config.json validator (static_spa/src/config.js) on standard input, so the doctor
// applies exactly the page's rules. Prints {"ok": true, "config": ...} or {"ok": false, "problems": [...]}.
//   node validate_config.mjs path/to/static_spa/src/config.js < config.json
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const { validateConfig, ConfigError } = await import(pathToFileURL(process.argv[2]).href);
let raw;
try {
  raw = JSON.parse(readFileSync(0, "utf8"));
} catch {
  raw = undefined;
}
let answer;
if (raw === undefined) {
  answer = { ok: false, problems: [{ field: "config.json", message: "is not valid JSON." }] };
} else {
  try {
    answer = { ok: true, config: validateConfig(raw) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    answer = { ok: false, problems: error.problems };
  }
}
process.stdout.write(`${JSON.stringify(answer)}\n`);
