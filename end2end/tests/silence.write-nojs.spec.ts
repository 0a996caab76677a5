import { expect, test } from "@playwright/test";
import { firingRow, silence } from "./silencing";

test("without JavaScript: silence every alert of an identity, then end it", async ({ page }) => {
  const row = await firingRow(page, "DkimSigningOff", "alerts.acme.example");
  await silence(page, row, /^Every alert of alerts\.acme\.example/, "1 day", "retiring this domain");
  await expect(page.getByTestId("silence-outcome")).toHaveText(
    "Silenced every alert of alerts.acme.example (demo / us-east-1) for 1 day.",
  );
  await expect(row.getByTestId("silenced")).toContainText("silenced until");
  const active = page.locator('[data-testid="silence-row"][data-active="true"]').filter({ hasText: "retiring" });
  await active.getByRole("button", { name: "End now" }).click();
  await expect(page.getByTestId("silence-outcome")).toContainText("Ended the silence of every alert of alerts.acme.example");
  await expect(row.getByTestId("silenced")).toHaveCount(0);
});
