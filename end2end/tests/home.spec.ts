import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";

test("the home page renders on the server and hydrates", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await page.goto("/");

  await expect(page.locator(".site-header")).toContainText("dkimdash");
  await expect(page).toHaveTitle("dkimdash");
  // Filled in by the `get_server_status` server function during SSR.
  await expect(page.getByTestId("server-version")).toHaveText(/^\d+\.\d+\.\d+$/);
  await expect(page.getByTestId("check-number")).toHaveText("#1");

  // The button only works once the WASM bundle has hydrated the page: each click
  // calls the server function from the browser and shows which check answered.
  const checkAgain = page.getByRole("button", { name: "Check again" });
  await expect(async () => {
    await checkAgain.click();
    await expect(page.getByTestId("check-number")).not.toHaveText("#1", { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const answered = Number((await page.getByTestId("check-number").textContent())?.slice(1));
  await checkAgain.click();
  await expect(page.getByTestId("check-number")).toHaveText(`#${answered + 1}`);

  expect(errors, "console errors").toEqual([]);
});

test("an unknown address shows a 404 page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
