import { expect, type Locator, type Page } from "@playwright/test";

/** Opens the Alerts page once `rule` fires for `identity`; that alert's row. */
export async function firingRow(page: Page, rule: string, identity: string) {
  const row = page
    .locator(`[data-testid="firing-row"][data-rule="${rule}"]`)
    .filter({ has: page.getByRole("link", { name: identity, exact: true }) });
  await expect(async () => {
    await page.goto("/alerts");
    await expect(row).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  return row;
}

/** Silences from `row`'s form: `what` is the scope's label, for `duration`, saying `why`. */
export async function silence(page: Page, row: Locator, what: RegExp, duration: string, why: string) {
  await row.getByText("Silence…").click();
  const form = row.getByTestId("silence-form");
  await form.getByLabel(what).check();
  await form.getByLabel("For").selectOption({ label: duration });
  await form.getByLabel("Why").fill(why);
  await form.getByRole("button", { name: "Silence" }).click();
  await expect(page).toHaveURL(/\/alerts\?notice=/);
}

