import { expect, test } from "@playwright/test";
import { gotoIdentity } from "./loaded";
import { statusBadge } from "./writes";

// Runs in the "writes-no-js" project. shop.acme.example: Easy DKIM, FAILED, and none of
// its records in the demo's DNS, so SES is not asked (nothing changes for the other tests).
test("without JavaScript: a restart while the records are missing is refused with the reason", async ({ page }) => {
  await gotoIdentity(page, "us-east-1", "shop.acme.example");
  await expect(statusBadge(page)).toHaveAttribute("data-status", "FAILED");
  await page.getByTestId("restart-form").getByRole("button", { name: "Restart verification" }).click();
  await expect(page).toHaveURL(/\/identity\/us-east-1\/shop\.acme\.example\?.*notice=/);
  await expect(page.getByTestId("write-error")).toContainText(
    "The DNS check does not find every record of shop.acme.example right: publish them first",
  );
  await expect(statusBadge(page)).toHaveAttribute("data-status", "FAILED");
});
