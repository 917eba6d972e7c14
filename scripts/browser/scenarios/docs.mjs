// The API documentation (Swagger UI from vendored assets at /docs/): it renders in a real
// browser with nothing fetched from another host, lists known operations and logs no error.
// The guard is also shown to catch external requests, so this cannot pass vacuously.
import { expect, expectEqual, withPage } from "../lib.mjs";

// Operations the page must list, as Swagger UI shows them: method and path.
const KNOWN_OPERATIONS = [
  "POST /api/v1/auth/login",
  "GET /api/v1/processing-activities",
  "POST /api/v1/processing-activities",
  "GET /api/v1/tasks",
  "GET /health",
];

// A page asking for one resource of each kind from a host that is not the API's.
const EXTERNAL = "https://assets.example.com";
const EXTERNAL_PAGE = `<!DOCTYPE html><html><head>
<link rel="stylesheet" href="${EXTERNAL}/style.css">
<script src="${EXTERNAL}/script.js"></script>
</head><body>
<img src="${EXTERNAL}/logo.png" alt="">
<script>fetch("${EXTERNAL}/data.json").catch(() => {});</script>
</body></html>`;

async function renderedOperations(page) {
  return page.$$eval(".opblock", (blocks) =>
    blocks.map((block) => {
      const method = block.querySelector(".opblock-summary-method")?.textContent.trim();
      const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path");
      return `${method} ${path}`;
    }),
  );
}

export const scenarios = [
  {
    name: "the docs page renders its operations from local assets only, without errors",
    async run({ browser, base }) {
      await withPage(browser, { base }, async ({ page, guard }) => {
        const response = await page.goto(`${base}/docs/`);
        expectEqual(response?.status(), 200, "status of GET /docs/");
        await page.waitForSelector(".opblock", { timeout: 20_000 });
        expectEqual(await page.title(), "Swagger UI", "page title");
        const heading = (await page.textContent(".information-container .title")) ?? "";
        expect(heading.startsWith("AURA-GDPR API"), `the heading names the API (got "${heading}")`);
        const shown = await renderedOperations(page);
        for (const operation of KNOWN_OPERATIONS) {
          expect(shown.includes(operation), `operation "${operation}" is listed`, shown);
        }
        // Opening an operation renders its details from the same document.
        await page.click("#operations-auth-login .opblock-summary-control");
        await page.waitForSelector("#operations-auth-login .opblock-body .responses-wrapper");
        guard.assertClean();
      });
    },
  },
  {
    name: "/docs redirects to the page",
    async run({ browser, base }) {
      await withPage(browser, { base }, async ({ page, guard }) => {
        await page.goto(`${base}/docs`);
        expectEqual(new URL(page.url()).pathname, "/docs/", "path after following /docs");
        await page.waitForSelector(".opblock", { timeout: 20_000 });
        guard.assertClean();
      });
    },
  },
  {
    name: "the guard reports every request to another host (JavaScript on and off)",
    async run({ browser, base }) {
      const wanted = {
        on: ["/data.json", "/logo.png", "/script.js", "/style.css"],
        off: ["/logo.png", "/style.css"],
      };
      for (const [mode, paths] of Object.entries(wanted)) {
        await withPage(browser, { base, javaScript: mode === "on" }, async ({ page, guard }) => {
          await page.goto(`data:text/html,${encodeURIComponent(EXTERNAL_PAGE)}`);
          await page.waitForLoadState("networkidle");
          const blocked = guard.blocked.map((url) => new URL(url).pathname).sort();
          expectEqual(blocked, paths, `blocked requests with JavaScript ${mode}`);
          let caught = "";
          try {
            guard.assertClean();
          } catch (error) {
            caught = error.message;
          }
          expect(caught.includes("requests to other hosts"), `assertClean fails with JavaScript ${mode}`);
        });
      }
    },
  },
];
