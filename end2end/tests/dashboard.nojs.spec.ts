import { expect, test } from "@playwright/test";
import { gotoLoaded } from "./loaded";
import { CNAME_NAME, EASY_DKIM_DOMAIN, SEEDED, SEEDED_BY_STATUS } from "./seed";

// Runs in the "chromium-no-js" project: JavaScript is off.
const rows = "table.identities tbody tr";

test("without JavaScript the filter form, sorting and paging work", async ({ page }) => {
  await gotoLoaded(page, "/");
  await expect(page.locator(rows)).toHaveCount(SEEDED);

  await page.getByLabel("Status", { exact: true }).selectOption("PENDING");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/status=PENDING/);
  await expect(page.locator(rows)).toHaveCount(SEEDED_BY_STATUS.PENDING);
  for (const row of await page.locator(rows).all()) {
    await expect(row).toHaveAttribute("data-status", "PENDING");
  }

  await page.getByRole("columnheader", { name: "Identity" }).getByRole("link").click();
  await expect(page).toHaveURL(/dir=desc/);
  const names = await page.locator(`${rows} th a`).allTextContents();
  expect(names).toEqual([...names].sort().reverse());

  await page.getByLabel("Per page").selectOption("25");
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.locator(rows)).toHaveCount(25);
  await page.getByRole("link", { name: "Next →" }).click();
  await expect(page.locator(rows)).toHaveCount(SEEDED - 25);
});

test("without JavaScript the detail page shows selectable records and no dead buttons", async ({
  page,
}) => {
  await gotoLoaded(page, "/");
  await page.getByRole("link", { name: EASY_DKIM_DOMAIN, exact: true }).click();
  await expect(page.getByTestId("record-name")).toHaveCount(3);
  for (const name of await page.getByTestId("record-name").allTextContents()) {
    expect(name).toMatch(CNAME_NAME);
  }
  await expect(page.locator("button.copy")).toHaveCount(7);
  for (const button of await page.locator("button.copy").all()) await expect(button).toBeHidden();
  await expect(page.getByTestId("record-name").first()).toHaveCSS("user-select", "all");
});

