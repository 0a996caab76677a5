import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { SEEDED_BY_STATUS } from "./seed";

test("the Alerts page lists what fires in the demo, from the header", async ({ page }) => {
  test.setTimeout(120_000);
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Alerts" }).click();
  await expect(page).toHaveURL(/\/alerts$/);
  await expect(page.getByRole("heading", { name: "Alerts", level: 1 })).toBeVisible();
  // Every FAILED identity of the seed fires once the first sweep has been judged.
  await expect(async () => {
    await page.reload();
    await expect(page.locator('[data-testid="firing-row"][data-rule="DkimFailed"]')).toHaveCount(
      SEEDED_BY_STATUS.FAILED,
      { timeout: 1_000 },
    );
  }).toPass({ timeout: 30_000 });
  const shop = page
    .locator('[data-testid="firing-row"][data-rule="DkimFailed"]')
    .filter({ has: page.getByRole("link", { name: "shop.acme.example", exact: true }) });
  await expect(shop).toContainText("critical");
  await expect(shop).toContainText("shop.acme.example: DKIM verification FAILED");
  await expect(shop.getByRole("link")).toHaveAttribute("href", "/identity/us-east-1/shop.acme.example?account=demo");
  // The seed's domain with signing off is warned of.
  await expect(
    page
      .locator('[data-testid="firing-row"][data-rule="DkimSigningOff"]')
      .filter({ has: page.getByRole("link", { name: "alerts.acme.example", exact: true }) }),
  ).toHaveCount(1);
  // Its 1024-bit keys are reminded of once their details are read: the demo's SES answers
  // one call a second, so that takes up to a minute after start.
  await expect(async () => {
    await page.reload();
    await expect(
      page
        .locator('[data-testid="firing-row"][data-rule="DkimWeakKey"]')
        .filter({ has: page.getByRole("link", { name: "billing.acme.example", exact: true }) }),
    ).toContainText("info", { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  // The demo sends alerts nowhere, and says so.
  await expect(page.getByTestId("no-receivers")).toBeVisible();
  await expect(page.getByTestId("no-deliveries")).toBeVisible();
  await expect(page.getByTestId("rules")).toContainText("DKIM status FAILED (critical)");
  expect(errors, "console errors").toEqual([]);
});
