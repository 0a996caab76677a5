import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { firingRow, silence } from "./silencing";

// Runs in the "writes" project (and, as silence.write-nojs.spec.ts, without JavaScript):
// silences change the alerts' tables of that dashboard only.

test("an operator silences one alert: still shown, marked, then ended early", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const row = await firingRow(page, "DkimFailed", "shop.acme.example");
  await silence(page, row, /^This alert/, "4 hours", "shop moves to a new DNS host tonight");
  await expect(page.getByTestId("silence-outcome")).toHaveText("Silenced DkimFailed on shop.acme.example for 4 hours.");
  // Still firing, marked.
  await expect(row.getByTestId("silenced")).toContainText("silenced until");
  const active = page.locator('[data-testid="silence-row"][data-active="true"]').filter({ hasText: "shop moves" });
  await expect(active).toContainText("DkimFailed on shop.acme.example");
  await expect(active).toContainText("local");

  await active.getByRole("button", { name: "End now" }).click();
  await expect(page).toHaveURL(/\/alerts\?notice=/);
  await expect(page.getByTestId("silence-outcome")).toHaveText("Ended the silence of DkimFailed on shop.acme.example.");
  await expect(row.getByTestId("silenced")).toHaveCount(0);
  await expect(
    page.locator('[data-testid="silence-row"][data-active="false"]').filter({ hasText: "shop moves" }),
  ).toContainText("ended");
  expect(errors, "console errors").toEqual([]);
});

test("a silence without a reason is refused and nothing is silenced", async ({ page }) => {
  const row = await firingRow(page, "DkimSigningOff", "alerts.acme.example");
  await row.getByText("Silence…").click();
  const form = row.getByTestId("silence-form");
  // The browser asks for the comment first; a blank one sent anyway is refused by name.
  await form.getByLabel("Why").fill("   ");
  await form.getByRole("button", { name: "Silence" }).click();
  await expect(page.getByTestId("silence-error")).toContainText("Say why in the comment");
  await expect(row.getByTestId("silenced")).toHaveCount(0);
});
