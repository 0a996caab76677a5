import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";

import { SEEDED, SEEDED_BY_STATUS } from "./seed";
import { gotoLoaded, hydrated } from "./loaded";
import { clockPast, idle, lastRead } from "./sweeps";

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

test("refresh now runs a sweep, its page reloads when done, and another open page is told", async ({
  page,
  context,
}) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  await idle(page);
  await hydrated(page);
  // Another operator's overview, open on the same figures.
  const other = await context.newPage();
  await other.goto("/");
  await hydrated(other);
  const before = await lastRead(page);
  await clockPast(before);

  const answered = page.waitForResponse((r) => r.url().endsWith("/api/refresh_inventory"));
  const reloaded = page.waitForEvent("load");
  await page.getByRole("button", { name: "Refresh now" }).click();
  expect(await (await answered).json()).toBe("Started");
  await expect(page.getByTestId("refresh-answer")).toHaveText(/Reading SES now/);
  await expect(page.getByRole("button", { name: "Refresh now" })).toBeDisabled();
  // No reload by the test: the page does it once the sweep is done.
  await reloaded;
  expect(await lastRead(page)).toBeGreaterThan(before);
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  await expect(page.getByTestId("refresh-answer")).toHaveCount(0);

  // The other page is not reloaded under its reader; it says newer figures are in.
  await expect(other.getByTestId("newer-figures")).toBeVisible({ timeout: 15_000 });
  await other.getByRole("link", { name: "Show them" }).click();
  await expect(other.getByTestId("newer-figures")).toHaveCount(0);
  expect(await lastRead(other)).toBeGreaterThan(before);
  expect(errors, "console errors").toEqual([]);
});

test("the accounts × regions grid shows each target's worst state and links to its rows", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await gotoLoaded(page, "/");
  const cells = page.getByTestId("grid-cell");
  await expect(cells).toHaveCount(2);
  // The demo has failures in both regions.
  for (const cell of await cells.all()) await expect(cell).toHaveAttribute("data-worst", "grid-failed");
  const east = page.locator('[data-testid="grid-cell"][data-region="us-east-1"]');
  const failed = east.getByTestId("grid-count").filter({ has: page.locator('[data-status="FAILED"]') });
  const count = Number(await failed.locator(".count").textContent());
  expect(count).toBeGreaterThan(0);
  await failed.click();
  await expect(page).toHaveURL(/status=FAILED&region=us-east-1&account=demo/);
  await expect(page.locator("table.identities tbody tr")).toHaveCount(count);
  expect(errors, "console errors").toEqual([]);
});
