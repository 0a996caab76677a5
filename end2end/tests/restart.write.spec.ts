import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { changeLanded, gotoIdentity, hydrated } from "./loaded";
import { statusBadge } from "./writes";

// Runs in the "writes" project. old.acme-europe.example: Easy DKIM, FAILED, and the
// demo's DNS still serves an old token at its names.
const DOMAIN = "old.acme-europe.example";

test("restart SES's verification: refused while the records are wrong, done once they are published", async ({ page }) => {
  const errors = collectConsoleErrors(page, { expectedStatuses: [422] });
  await gotoIdentity(page, "eu-west-1", DOMAIN);
  await hydrated(page);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "FAILED");
  const restart = page.getByTestId("restart-form");
  await restart.getByRole("button", { name: "Restart verification" }).click();
  await expect(page.getByTestId("write-error")).toContainText(`The DNS check does not find every record of ${DOMAIN} right`);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "FAILED");

  // Publish the right records at the demo's Cloudflare, which holds the zone (and, new,
  // none of its records yet: what it publishes is served over the old ones).
  await page.getByTestId("publish-preview-link").click();
  await expect(page.getByTestId("publish-preview").locator("tbody tr").filter({ hasText: "create" })).toHaveCount(3);
  await hydrated(page);
  let before = page.url();
  await page.getByRole("button", { name: /^Publish to Cloudflare/ }).click();
  await changeLanded(page, before);
  await expect(page.getByTestId("write-outcome")).toContainText("The DNS check finds every record right now.");

  await hydrated(page);
  before = page.url();
  await page.getByTestId("restart-form").getByRole("button", { name: "Restart verification" }).click();
  await changeLanded(page, before);
  await expect(page.getByTestId("write-outcome")).toContainText(
    `SES is looking for the records of ${DOMAIN} again (PENDING, for up to 72 hours)`,
  );
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  await expect(page.getByTestId("restart-form")).toHaveCount(0);
  expect(errors).toEqual([]);
});
