// The public intake page of data-subject requests, as a person without an account uses
// it: with JavaScript off, fill in the form, open the confirmation link from the captured
// mail, press the button; then, as the organisation's owner through the JSON API, see
// the request listed with the due date the confirmation page showed (one month from the
// confirmation, moved off a weekend). And the negative: a bad submission comes back with
// the error summary at the top, each entry linking to its field.
import { api, expect, expectEqual, waitForMail, withPage } from "../lib.mjs";

const PASSWORD = "a sufficiently long passphrase";

/** A tenant with the intake page on, and its owner's access token. */
async function intakeTenant(apiBase, language) {
  const unique = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const email = `owner-${unique}@example.test`;
  const registered = await api(apiBase, "POST", "/api/v1/auth/register", {
    body: {
      organisation_name: `Intake Browser ${unique}`,
      email,
      full_name: "Owner Person",
      password: PASSWORD,
    },
  });
  expectEqual(registered.status, 201, "sign-up of the tenant");
  const login = await api(apiBase, "POST", "/api/v1/auth/login", {
    body: { email, password: PASSWORD },
  });
  expectEqual(login.status, 200, "owner sign-in");
  const token = login.body.access_token;
  const patched = await api(apiBase, "PATCH", "/api/v1/tenants/me", {
    token,
    body: {
      settings: {
        requests_intake_enabled: true,
        requests_intake_language: language,
        privacy_contact: "datenschutz@example.test",
      },
    },
  });
  expectEqual(patched.status, 200, "intake switched on");
  const me = await api(apiBase, "GET", "/api/v1/tenants/me", { token });
  return { slug: me.body.slug, name: me.body.name, token, unique };
}

/** One month after `day` by Reg. 1182/71 Art. 3 (same date, else the month's last day),
 *  then past a Saturday or Sunday (the tenant names no country: no public holidays). */
function dueDate(day) {
  const [y, m, d] = day.split("-").map(Number);
  const lastOfNext = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const due = new Date(Date.UTC(y, m, Math.min(d, lastOfNext)));
  while (due.getUTCDay() === 0 || due.getUTCDay() === 6) {
    due.setUTCDate(due.getUTCDate() + 1);
  }
  return due.toISOString().slice(0, 10);
}

const today = () => new Date().toISOString().slice(0, 10);

/** The requests of the owner's tenant, as the JSON API lists them. */
async function listedRequests(apiBase, token) {
  const listed = await api(apiBase, "GET", "/api/v1/data-subject-requests", { token });
  expectEqual(listed.status, 200, "GET /api/v1/data-subject-requests");
  return listed.body.items;
}

export const scenarios = [
  {
    name: "a person submits the form with JavaScript off, confirms from the mail, and the case appears with its due date",
    async run({ browser, base, apiBase, mailDir }) {
      const tenant = await intakeTenant(apiBase, "de");
      const subjectEmail = `erika-${tenant.unique}@example.test`;
      let link;
      await withPage(browser, { base, javaScript: false }, async ({ page, guard }) => {
        const form = await page.goto(`${base}/public/${tenant.slug}/requests/new`);
        expectEqual(form?.status(), 200, "status of the form");
        expectEqual(await page.getAttribute("html", "lang"), "de", "the page's language");
        expect((await page.textContent(".organisation"))?.includes(tenant.name), "the tenant's name is shown");
        expect((await page.textContent("main"))?.includes("datenschutz@example.test"), "the privacy contact is shown");
        // Labels lead to their fields, as assistive technology reads them.
        await page.getByLabel("Vollständiger Name").fill("Erika Mustermann");
        await page.getByLabel("E-Mail-Adresse").fill(subjectEmail);
        await page.selectOption("#field-category", "customer");
        await page.getByLabel("Auskunft über meine Daten und ihre Verwendung (Art. 15)").check();
        await page.getByLabel("Löschung meiner Daten (Art. 17)").check();
        await page.fill("#field-scope", "Alle Daten zu meinen Bestellungen seit 2024.");
        await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
        expectEqual(await page.textContent("h1"), "Bitte prüfen Sie Ihr E-Mail-Postfach", "heading after sending");
        const mail = await waitForMail(mailDir, subjectEmail);
        const found = mail.match(/https?:\/\/[^\s"<>]+\/public\/[a-z0-9-]+\/requests\/confirm\/[A-Za-z0-9_-]+/);
        expect(found, "the mail carries a confirmation link", mail.slice(0, 2000));
        link = found[0];
        expect(link.startsWith(`${base}/public/${tenant.slug}/`), `the link points to this service and tenant (${link})`);
        guard.assertClean();
      });

      // Following the link changes nothing (mail scanners follow links); the button does.
      const before = await listedRequests(apiBase, tenant.token);
      expectEqual(before.length, 0, "requests before the confirmation");
      let shown;
      let confirmedOn;
      await withPage(browser, { base, javaScript: false }, async ({ page, guard }) => {
        const opened = await page.goto(link);
        expectEqual(opened?.status(), 200, "status of the confirmation page");
        expectEqual((await listedRequests(apiBase, tenant.token)).length, 0, "requests after opening the link");
        const day = today();
        await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
        confirmedOn = [day, today()];
        expectEqual(await page.textContent("h1"), "Anfrage eingegangen", "heading after confirming");
        shown = {
          reference: (await page.textContent("#reference"))?.trim(),
          due: await page.getAttribute("#due-on", "datetime"),
        };
        expect(/^DSR-\d{4}-\d{4,}$/.test(shown.reference ?? ""), "a reference is shown", shown);
        guard.assertClean();
      });

      const listed = await listedRequests(apiBase, tenant.token);
      expectEqual(listed.length, 1, "requests after the confirmation");
      const request = listed[0];
      expectEqual(request.reference, shown.reference, "the reference the page showed");
      expectEqual(request.channel, "web_form", "channel");
      expectEqual(request.due_on, shown.due, "the due date the page showed");
      const wanted = confirmedOn.map(dueDate);
      expect(wanted.includes(request.due_on), `due one month after the confirmation (${wanted})`, request);
      expectEqual(request.received_at.slice(0, 10) >= confirmedOn[0], true, "received at the confirmation");

      // The link works once: pressing the button again finds nothing.
      await withPage(browser, { base, javaScript: false }, async ({ page }) => {
        await page.goto(link);
        const [again] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
        expectEqual(again?.status(), 404, "a second confirmation");
        expectEqual(await page.textContent("h1"), "Dieser Link funktioniert nicht", "heading of a used link");
      });
      expectEqual((await listedRequests(apiBase, tenant.token)).length, 1, "still one request");
    },
  },
  {
    name: "a bad submission comes back with the error summary linking to each field",
    async run({ browser, base, apiBase }) {
      const tenant = await intakeTenant(apiBase, "en");
      await withPage(browser, { base }, async ({ page, guard }) => {
        await page.goto(`${base}/public/${tenant.slug}/requests/new`);
        await page.getByLabel("Full name").fill("Max Mustermann");
        await page.getByLabel("E-mail address").fill("not an address");
        const [answer] = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
        expectEqual(answer?.status(), 422, "status of a bad submission");
        expect((await page.title()).startsWith("Error: "), "the title says there is an error", await page.title());
        const summary = page.locator(".error-summary");
        expect(await summary.isVisible(), "the error summary is shown");
        const links = await summary.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
        expectEqual(links, ["#field-email", "#field-category", "#right-access"], "the fields the summary names");
        // A summary link moves the focus to its field.
        await summary.locator("a[href='#field-email']").click();
        expectEqual(await page.evaluate(() => document.activeElement?.id), "field-email", "focused field");
        expectEqual(await page.inputValue("#field-name"), "Max Mustermann", "what was typed is kept");
        // The 422 itself is the expected answer (Chromium also notes it on the console);
        // nothing else may have gone wrong.
        guard.httpErrors = guard.httpErrors.filter((entry) => !entry.startsWith("422 POST"));
        guard.consoleErrors = guard.consoleErrors.filter((entry) => !entry.includes("status of 422"));
        guard.assertClean();
      });
    },
  },
];
