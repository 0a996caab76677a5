import { expect, test } from "@playwright/test";
import { gotoIdentity } from "./loaded";

test("without JavaScript: publish missing records at the demo's Cloudflare and the DNS check finds them", async ({ page }) => {
  await gotoIdentity(page, "eu-west-1", "gdpr.acme-europe.example");
  await page.getByTestId("publish-preview-link").click();
  const rows = page.getByTestId("publish-preview").locator("tbody tr");
  await expect(rows.filter({ hasText: "create" })).toHaveCount(3);
  await page.getByRole("button", { name: "Publish to Cloudflare 'demo Cloudflare' (zone acme-europe.example)" }).click();
  await expect(page).toHaveURL(/[?&]notice=/);
  const outcome = page.getByTestId("write-outcome");
  await expect(outcome).toContainText("Published the DKIM records of gdpr.acme-europe.example at Cloudflare 'demo Cloudflare'");
  await expect(outcome).toContainText("The DNS check finds every record right now.");
  await expect(page.locator('[data-testid="record-state"][data-finding="ok"]')).toHaveCount(3);
});
