// Runs the headless-browser scenarios against a running aura-api and prints one PASS or
// FAIL line each; exits 1 if any failed. scripts/browser.sh starts the API and calls it:
//
//   AURA_BASE_URL=http://127.0.0.1:8080 node scripts/browser/run.mjs [scenario files...]
//
// Without file arguments every scenarios/*.mjs runs. AURA_BROWSER_RESOLVE maps host names
// inside the browser ("aura-api.test=127.0.0.1,..."), AURA_MAIL_DIR is the folder of the
// API's captured mail (MAIL_TRANSPORT=file), for scenarios that follow a mailed link, and
// AURA_API_URL the API as this process reaches it (for set-up and checks through the JSON
// API; default AURA_BASE_URL).
import { readdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { launch } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const base = process.env.AURA_BASE_URL;
if (!base) {
  console.error("AURA_BASE_URL is not set (the running aura-api, e.g. http://127.0.0.1:8080)");
  process.exit(2);
}
const mailDir = process.env.AURA_MAIL_DIR;
const apiBase = process.env.AURA_API_URL || base;
const files = process.argv.length > 2
  ? process.argv.slice(2).map((file) => resolve(file))
  : readdirSync(join(here, "scenarios"))
      .filter((file) => file.endsWith(".mjs"))
      .sort()
      .map((file) => join(here, "scenarios", file));

const hostMap = Object.fromEntries(
  (process.env.AURA_BROWSER_RESOLVE || "")
    .split(",")
    .filter((rule) => rule.includes("="))
    .map((rule) => rule.split("=").map((part) => part.trim())),
);
const browser = await launch({ resolve: hostMap });
console.log(`== Chromium ${browser.version()} against ${base}`);
let passed = 0;
const failed = [];
try {
  for (const file of files) {
    const { scenarios } = await import(pathToFileURL(file).href);
    if (!Array.isArray(scenarios) || scenarios.length === 0) {
      failed.push(`${basename(file)}: exports no scenarios`);
      console.log(`FAIL ${basename(file)}: exports no scenarios`);
      continue;
    }
    for (const scenario of scenarios) {
      const name = `${basename(file, ".mjs")}: ${scenario.name}`;
      const started = Date.now();
      try {
        await scenario.run({ browser, base, apiBase, mailDir });
        passed += 1;
        console.log(`PASS ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        failed.push(name);
        console.log(`FAIL ${name} (${Date.now() - started} ms)\n      ${error.message}`);
      }
    }
  }
} finally {
  await browser.close();
}
console.log(`browser: ${passed} passed, ${failed.length} failed`);
process.exit(failed.length === 0 ? 0 : 1);
