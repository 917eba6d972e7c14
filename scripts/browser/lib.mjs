// Helpers shared by the headless-browser scenarios (scripts/browser/scenarios/*.mjs):
// Debian's Chromium driven by playwright-core (which downloads no browser), pages whose
// requests to any other origin than the API's are aborted and recorded, the console and
// page errors of each page collected, and assertions with clear failure messages.
//
// A scenario file exports `scenarios`, a list of { name, run(env) }; run.mjs launches one
// browser and runs them all. `env` holds { browser, base, apiBase, mailDir }; withPage() opens a
// guarded page for a scenario and closes it afterwards.
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/**
 * Headless Chromium from CHROMIUM_PATH (default /usr/bin/chromium). `resolve` maps host
 * names to addresses inside the browser ({ "aura-api.test": "127.0.0.1" }), so a local
 * server is visited under a name that is not a loopback one, as on a real host.
 */
export async function launch({ resolve = {} } = {}) {
  const rules = Object.entries(resolve).map(([host, address]) => `MAP ${host} ${address}`);
  // playwright-core passes --no-sandbox unless asked for the sandbox, which root (CI) needs.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: rules.length > 0 ? [`--host-resolver-rules=${rules.join(", ")}`] : [],
  });
}

/** A failed expectation; run.mjs prints its message and fails the run. */
export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Fails with `message` (and what was seen, when given) unless `condition` holds. */
export function expect(condition, message, seen) {
  if (!condition) {
    const detail = seen === undefined ? "" : `\n      seen: ${JSON.stringify(seen, null, 2)}`;
    throw new AssertionError(message + detail);
  }
}

/** Fails unless `actual` equals `wanted` (compared as JSON), naming `what`. */
export function expectEqual(actual, wanted, what) {
  const [a, w] = [JSON.stringify(actual), JSON.stringify(wanted)];
  if (a !== w) {
    throw new AssertionError(`${what}: expected ${w}, got ${a}`);
  }
}

/**
 * A fresh context and page. JavaScript is on unless `javaScript: false`. Every request to
 * an origin outside `allowedOrigins` (default: only the API's own) is aborted and recorded
 * in `guard.blocked`; console errors, uncaught page errors and answers >= 400 from the
 * allowed origins are recorded too. `guard.assertClean()` fails on any of them.
 */
export async function newPage(browser, { base, javaScript = true, allowedOrigins } = {}) {
  const allowed = new Set(allowedOrigins ?? (base ? [new URL(base).origin] : []));
  const context = await browser.newContext({ javaScriptEnabled: javaScript });
  const guard = {
    blocked: [],
    consoleErrors: [],
    pageErrors: [],
    httpErrors: [],
    assertClean() {
      expect(this.blocked.length === 0, "requests to other hosts were made (and blocked)", this.blocked);
      expect(this.pageErrors.length === 0, "uncaught errors in the page", this.pageErrors);
      expect(this.consoleErrors.length === 0, "errors on the browser console", this.consoleErrors);
      expect(this.httpErrors.length === 0, "requests answered with an error status", this.httpErrors);
    },
  };
  // Playwright never routes data: and blob: URLs (they leave no process), so every request
  // that reaches the network passes through here.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (allowed.has(originOf(url))) {
      return route.continue();
    }
    guard.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  // A WebSocket is not a request to route(); it is refused the same way.
  await context.routeWebSocket(/.*/, (ws) => {
    const url = ws.url();
    if (allowed.has(originOf(url.replace(/^ws/, "http")))) {
      return ws.connectToServer();
    }
    guard.blocked.push(url);
    return ws.close();
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    // The browser's own report of a request aborted above is not a second failure.
    if (message.type() === "error" && !message.text().includes("ERR_BLOCKED_BY_CLIENT")) {
      guard.consoleErrors.push(message.text());
    }
  });
  page.on("pageerror", (error) => guard.pageErrors.push(String(error)));
  page.on("response", (response) => {
    if (response.status() >= 400 && allowed.has(originOf(response.url()))) {
      guard.httpErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  return { context, page, guard };
}

/** Runs `body({ page, guard, context })` on a page from newPage(), closing it afterwards. */
export async function withPage(browser, options, body) {
  const opened = await newPage(browser, options);
  try {
    return await body(opened);
  } finally {
    await opened.context.close();
  }
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * The newest captured mail (an .eml of MAIL_TRANSPORT=file in `mailDir`) whose text
 * contains `needle`, waiting up to `timeoutMs` for it (the API hands mail to a background
 * sender, so it may land after the page answered). Fails when none arrives.
 */
export async function waitForMail(mailDir, needle, timeoutMs = 10_000) {
  expect(mailDir, "AURA_MAIL_DIR is not set (the API's MAIL_DIR with MAIL_TRANSPORT=file)");
  const { readdir, readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = (await readdir(mailDir).catch(() => []))
      .filter((name) => name.endsWith(".eml") && !name.startsWith("."))
      .sort()
      .reverse();
    for (const name of names) {
      const text = await readFile(join(mailDir, name), "utf8");
      if (text.includes(needle)) {
        return text;
      }
    }
    if (Date.now() > deadline) {
      throw new AssertionError(`no mail containing "${needle}" in ${mailDir} within ${timeoutMs} ms`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * A JSON call to the API from the test itself (not the browser): { status, body }.
 * `token` is sent as a bearer token; `body` as JSON.
 */
export async function api(base, method, path, { token, body } = {}) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
