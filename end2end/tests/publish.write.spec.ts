import { expect, test } from "@playwright/test";
import { changeLanded, gotoIdentity, hydrated } from "./loaded";

test("publish an identity's records at the demo's Route 53, previewed first", async ({ page }) => {
  await gotoIdentity(page, "us-east-1", "marketing.acme.example");
  await page.getByTestId("publish-preview-link").click();
  const rows = page.getByTestId("publish-preview").locator("tbody tr");
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: "create" })).toHaveCount(3);
  await hydrated(page);
  const before = page.url();
  await page.getByRole("button", { name: "Publish to Route 53 'demo Route 53' (zone acme.example)" }).click();
  await changeLanded(page, before);
  await expect(page.getByTestId("write-outcome")).toContainText(
    "Published the DKIM records of marketing.acme.example at Route 53 'demo Route 53' (zone acme.example).",
  );
  // A second preview finds every record in place: nothing left to publish.
  await page.getByTestId("publish-preview-link").click();
  await expect(page.getByTestId("publish-nothing")).toBeVisible();
  await expect(page.getByTestId("publish-form")).toHaveCount(0);
});
