import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { hydrated } from "./loaded";

test("the home page renders on the server and its islands hydrate", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");

  await expect(page.locator(".site-header")).toContainText("dkimdash");
  await expect(page).toHaveTitle("dkimdash");
  // Filled in by the `get_server_status` server function during SSR.
  await expect(page.getByTestId("server-version")).toHaveText(/^\d+\.\d+\.\d+$/);
  await expect(page.getByTestId("server-status")).toContainText(/ · up \d+ (s|min|h)/);
  // The server renders no marker; the WebAssembly sets it once the islands have hydrated.
  await hydrated(page);
  // Only the interactive parts are islands: the overview's refresh, not the table.
  await expect(page.locator("leptos-island")).toHaveCount(1);
  await expect(page.locator("leptos-island form")).toHaveAttribute("action", "/api/refresh_inventory");
  expect(errors, "console errors").toEqual([]);
});

test("an unknown address shows a 404 page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
