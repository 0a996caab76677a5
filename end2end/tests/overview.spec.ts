import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";

import { SEEDED, SEEDED_BY_STATUS } from "./seed";
import { clockPast, expectSweptAfter, idle, lastRead } from "./sweeps";

test("the demo reads the simulated SES and shows every seeded identity by status", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // The first sweep runs at start; reload until it has landed.
  await expect(async () => {
    await page.goto("/");
    await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED), { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  await expect(page.getByTestId("ses-backend")).toHaveText("demo: simulated SES");
  for (const [status, count] of Object.entries(SEEDED_BY_STATUS)) {
    const item = page.getByTestId(`count-${status}`);
    await expect(item.locator(".badge")).toHaveAttribute("title", /.+/);
    await expect(item.locator(".count"), status).toHaveText(String(count));
  }
  const targets = page.locator("table.targets");
  await expect(targets).toContainText("us-east-1");
  await expect(targets).toContainText("eu-west-1");
  expect(errors, "console errors").toEqual([]);
});

test("refresh now runs a sweep and the page stays consistent", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  await idle(page);
  const before = await lastRead(page);
  await clockPast(before);
  const response = page.waitForResponse((r) => r.url().includes("/api/refresh_inventory"));
  // Before hydration the button posts a plain form (answered with a redirect back);
  // after, the action calls the server function. Either way SES is asked to sweep.
  await page.getByRole("button", { name: "Refresh now" }).click();
  expect((await response).status()).toBeLessThan(400);
  await expectSweptAfter(page, before);
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  expect(errors, "console errors").toEqual([]);
});
