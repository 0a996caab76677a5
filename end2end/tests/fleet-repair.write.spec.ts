import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoLoaded, hydrated } from "./loaded";

// Runs in the "writes" project. The TEMPORARY_FAILURE identities of the demo sit in zones
// the demo's Route 53 (acme.example) and Cloudflare (acme-europe.example) hold, and
// neither holds their records yet.
test("repair the filtered identities: previewed by provider and zone, run in the background, reported", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await gotoLoaded(page, "/?status=TEMPORARY_FAILURE");
  await page.getByTestId("repair-link").click();
  await expect(page).toHaveURL(/\/repair\?status=TEMPORARY_FAILURE/);
  const zones = page.getByTestId("repair-zones").locator("tbody tr");
  await expect(zones.filter({ hasText: "Route 53 'demo Route 53'" }).filter({ hasText: "acme.example" })).toHaveCount(1);
  await expect(zones.filter({ hasText: "Cloudflare 'demo Cloudflare'" }).filter({ hasText: "acme-europe.example" })).toHaveCount(1);
  await expect(page.getByTestId("repair-summary")).toContainText("0 verification(s) to restart");

  await hydrated(page);
  await page.getByRole("button", { name: "Start the repair" }).click();
  await expect(page).toHaveURL(/\/repair\/runs\/\d+/);
  // The page reloads itself while the run goes; the report replaces the progress.
  await expect(page.getByTestId("run-progress")).toContainText("Finished", { timeout: 30_000 });
  await expect(page.getByTestId("run-progress")).toContainText("0 failed");
  const steps = page.getByTestId("run-steps").locator("tbody tr");
  await expect(steps).not.toHaveCount(0);
  await expect(steps.filter({ hasText: "published (" })).toHaveCount(await steps.count());
  await expect(steps.first().getByRole("link", { name: "audit log" })).toHaveAttribute("href", /\/activity\?identity=/);
  expect(errors).toEqual([]);
});
