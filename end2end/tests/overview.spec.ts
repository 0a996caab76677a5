import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";

// The demo seed (src/sim/seed.rs): 40 identities over us-east-1 and eu-west-1.
const SEEDED = 40;
const STATUSES = ["SUCCESS", "PENDING", "TEMPORARY_FAILURE", "FAILED", "NOT_STARTED"];

test("the demo reads the simulated SES and shows every seeded identity by status", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // The first sweep runs at start; reload until it has landed.
  await expect(async () => {
    await page.goto("/");
    await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED), { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  await expect(page.getByTestId("ses-backend")).toHaveText("demo: simulated SES");
  let sum = 0;
  for (const status of STATUSES) {
    const item = page.getByTestId(`count-${status}`);
    await expect(item.locator(".badge")).toHaveAttribute("title", /.+/);
    const count = Number(await item.locator(".count").textContent());
    expect(count, status).toBeGreaterThan(0);
    sum += count;
  }
  expect(sum).toBe(SEEDED);
  await expect(page.getByRole("table")).toContainText("us-east-1");
  await expect(page.getByRole("table")).toContainText("eu-west-1");
  expect(errors, "console errors").toEqual([]);
});

test("refresh now asks for a sweep and the page stays consistent", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  const response = page.waitForResponse((r) => r.url().includes("/api/refresh_inventory"));
  // Before hydration the button posts a plain form (answered with a redirect back);
  // after, the action calls the server function. Either way SES is asked to sweep.
  await page.getByRole("button", { name: "Refresh now" }).click();
  expect((await response).status()).toBeLessThan(400);
  await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED));
  expect(errors, "console errors").toEqual([]);
});
