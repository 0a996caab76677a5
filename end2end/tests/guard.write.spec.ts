import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoIdentity, hydrated } from "./loaded";

// Runs in the "writes" project. The change is refused (not confirmed), so the identity
// stays as the seed has it.
const DOMAIN = "mail.acme.example";

test("while a change is on its way, clicking again or pressing Enter sends nothing more", async ({
  page,
}) => {
  const errors = collectConsoleErrors(page, { expectedStatuses: [422] });
  await gotoIdentity(page, "us-east-1", DOMAIN);
  await hydrated(page);
  // The change's request is held on its way until the second tries are made: however
  // slow SES is, the form must not send a second one meanwhile.
  let posts = 0;
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/dkim/signing", async (route) => {
    posts += 1;
    await held;
    await route.continue();
  });

  const form = page.getByTestId("signing-form");
  await form.getByLabel("BYODKIM (your own key; one TXT record)").check();
  await form.getByLabel("BYODKIM selector").fill("guard2026");
  await form.getByLabel(/Generate a 2048-bit key/).check();
  await form.getByRole("button", { name: "Apply" }).click();
  const busy = form.getByRole("button", { name: "Asking SES…" });
  await expect(busy).toBeDisabled();
  await busy.click({ force: true });
  await form.getByLabel("BYODKIM selector").press("Enter");
  await busy.dispatchEvent("click");
  expect(posts).toBe(1);

  release();
  await expect(page.getByTestId("write-error")).toContainText("Confirm the change first");
  await expect(form.getByRole("button", { name: "Apply" })).toBeEnabled();
  expect(posts).toBe(1);
  expect(errors, "console errors").toEqual([]);
});
