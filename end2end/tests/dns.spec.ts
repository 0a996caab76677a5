import { expect, test, type Page } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoIdentity, gotoLoaded, hydrated } from "./loaded";
import { nextSecond } from "./clock";

// The demo's DNS server publishes most records right and some wrong on purpose
// (src/dns/demo.rs). The checker starts on an identity once SES's details of it are read
// (the demo reads them at one SES call a second: all 40 within about a minute).
test.setTimeout(120_000);

/** Opens an identity's page once its DNS check has run (the page says when it ran). */
async function gotoChecked(page: Page, region: string, name: string): Promise<void> {
  await expect(async () => {
    await gotoIdentity(page, region, name);
    await expect(page.getByTestId("dns-checked")).toContainText("DNS checked", { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
}

async function findings(page: Page): Promise<(string | null)[]> {
  return page
    .getByTestId("record-state")
    .evaluateAll((cells) => cells.map((cell) => cell.getAttribute("data-finding")));
}

test("missing records: every record says so and the diagnosis names SES's verdict", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await gotoChecked(page, "us-east-1", "shop.acme.example");
  expect(await findings(page)).toEqual(["missing", "missing", "missing"]);
  const diagnosis = page.getByTestId("diagnosis");
  await expect(diagnosis).toHaveClass(/diagnosis-critical/);
  await expect(page.getByTestId("diagnosis-headline")).toContainText(/fail/i);
  await expect(page.getByTestId("record-state").first()).toContainText("missing");
  expect(errors).toEqual([]);
});

test("a verified identity whose record broke is the loudest warning", async ({ page }) => {
  await gotoChecked(page, "us-east-1", "careers.acme.example");
  const states = await findings(page);
  expect(states.filter((s) => s === "proxied")).toHaveLength(1);
  expect(states.filter((s) => s === "ok")).toHaveLength(2);
  await expect(page.getByTestId("diagnosis")).toHaveClass(/diagnosis-critical/);
  await expect(page.getByTestId("diagnosis-explanation")).toContainText("_domainkey.careers.acme.example");
});

test("each mistake of the demo is found where it was made", async ({ page }) => {
  const cases: [string, string, string][] = [
    ["us-east-1", "legacy.acme.example", "zone_appended"],
    ["us-east-1", "status.acme.example", "wrong_value"],
    ["us-east-1", "partners.acme.example", "txt_malformed"],
    ["eu-west-1", "legal.acme-europe.example", "txt_malformed"],
    ["eu-west-1", "vendor.acme-europe.example", "txt_malformed"],
    ["us-east-1", "support.acme.example", "present_unknown_key"],
    ["us-east-1", "acme.example", "ok"],
  ];
  for (const [region, name, finding] of cases) {
    await gotoChecked(page, region, name);
    expect(await findings(page), name).toContain(finding);
  }
  await expect(page.getByTestId("diagnosis")).toHaveClass(/diagnosis-good/);
});

test("a stale cache, a provider the domain is not delegated to, and a provider that is down", async ({ page }) => {
  // Published right; the resolver still holds an older first record: a note, not a problem.
  await gotoChecked(page, "us-east-1", "news.acme.example");
  expect(await findings(page)).toEqual(["stale_cache", "ok", "ok"]);
  await expect(page.getByTestId("record-state").first()).toContainText("stale in cache");
  await expect(page.getByTestId("diagnosis")).toContainText("still serves an older answer");

  // The records were added at a new provider; the parent still delegates to the old one.
  await gotoChecked(page, "eu-west-1", "events.acme-europe.example");
  expect(await findings(page)).toEqual(["not_delegated", "not_delegated", "not_delegated"]);
  await expect(page.getByTestId("diagnosis")).toHaveClass(/diagnosis-critical/);
  await expect(page.getByTestId("diagnosis")).toContainText("ns.dns-old.example");

  // The domain's nameservers are down: nothing is claimed either way.
  await gotoChecked(page, "eu-west-1", "jobs.acme-europe.example");
  expect(await findings(page)).toEqual(["could_not_check", "could_not_check", "could_not_check"]);
  await expect(page.getByTestId("record-state").first()).toContainText("could not check");
  await expect(page.getByTestId("diagnosis")).not.toHaveClass(/diagnosis-critical/);
});

test("the table filters by DNS health and the overview counts problems", async ({ page }) => {
  await gotoLoaded(page, "/");
  await expect(async () => {
    await page.goto("/?dns=problem");
    await expect(page.getByRole("link", { name: "careers.acme.example", exact: true })).toBeVisible({
      timeout: 1_000,
    });
  }).toPass({ timeout: 90_000 });
  await expect(page.getByRole("link", { name: "shop.acme.example", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "acme.example", exact: true })).toHaveCount(0);
  const healths = await page.getByTestId("dns-health").allTextContents();
  expect(healths.length).toBeGreaterThan(0);
  expect(new Set(healths)).toEqual(new Set(["Problem"]));

  await page.goto("/");
  const problems = page.getByTestId("facet-dns-problem");
  await expect(problems).toContainText(/DNS problems\s*[1-9]\d*/);
  await problems.getByRole("link").click();
  await expect(page).toHaveURL(/[?&]dns=problem/);
});

test("Check DNS now looks again and shows the new result", async ({ page }) => {
  await gotoChecked(page, "us-east-1", "acme.example");
  await hydrated(page);
  const checked = page.getByTestId("dns-checked");
  const before = Number(await checked.getAttribute("data-checked-at"));
  await nextSecond(before);
  await page.getByRole("button", { name: "Check DNS now" }).click();
  await expect(async () => {
    expect(Number(await checked.getAttribute("data-checked-at"))).toBeGreaterThan(before);
  }).toPass({ timeout: 10_000 });
  await expect(checked).toHaveText(/DNS checked [0-9] s ago/);
  expect(await findings(page)).toEqual(["ok", "ok", "ok"]);
});
