import { expect, test } from "@playwright/test";
import { clockPast, expectSweptAfter, idle, lastRead } from "./sweeps";

// Runs in the "writes-no-js" project, on the second dashboard: "Refresh now" starts at most
// one sweep a minute per dashboard, and the first dashboard's overview test uses its own.

test("without JavaScript Refresh now runs a sweep and comes back with the filter kept", async ({
  page,
}) => {
  await page.goto("/?status=FAILED");
  await idle(page);
  const before = await lastRead(page);
  await clockPast(before);
  await page.getByRole("button", { name: "Refresh now" }).click();
  await expect(page).toHaveURL(/[?&]status=FAILED(&|$)/);
  await expectSweptAfter(page, before);
  await expect(page).toHaveURL(/[?&]status=FAILED(&|$)/);
});
