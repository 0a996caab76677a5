import { expect, test } from "@playwright/test";
import { gotoIdentity } from "./loaded";
import { nextSecond } from "./clock";

// Runs in the "chromium-no-js" project: JavaScript is off.
test.setTimeout(120_000);

test("without JavaScript, Check DNS now posts, looks again and comes back to the page", async ({
  page,
}) => {
  const path = "/identity/us-east-1/acme.example";
  const checked = page.getByTestId("dns-checked");
  await expect(async () => {
    await gotoIdentity(page, "us-east-1", "acme.example");
    await expect(checked).toHaveAttribute("data-checked-at", /^\d+$/, { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  const before = Number(await checked.getAttribute("data-checked-at"));
  await nextSecond(before);
  await page.getByRole("button", { name: "Check DNS now" }).click();
  await expect(page).toHaveURL(path);
  expect(Number(await checked.getAttribute("data-checked-at"))).toBeGreaterThan(before);
  await expect(page.getByTestId("diagnosis-headline")).toBeVisible();
});
