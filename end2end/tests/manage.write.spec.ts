import { type Page, expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { changeLanded, gotoIdentity, hydrated } from "./loaded";
import {
  SWITCHED_WITH_JS,
  expectByodkimTxt,
  expectThreeCnames,
  statusBadge,
} from "./writes";

// Runs in the "writes" project, on a dashboard of its own.

/** The signing form's next answer: a refused change is 422, with the words the page shows. */
function signingAnswer(page: Page) {
  return page.waitForResponse((response) => response.url().endsWith("/api/dkim/signing"));
}

test("switch Easy DKIM → BYODKIM with a generated key → Easy DKIM", async ({ page }) => {
  const errors = collectConsoleErrors(page, { expectedStatuses: [422] });
  const domain = SWITCHED_WITH_JS;
  await gotoIdentity(page, "us-east-1", domain);
  await hydrated(page);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "SUCCESS");
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");
  const before = await expectThreeCnames(page, domain);

  const form = page.getByTestId("signing-form");
  await form.getByLabel("BYODKIM (your own key; one TXT record)").check();
  await form.getByLabel("BYODKIM selector").fill("pw2026");
  await form.getByLabel(/Generate a 2048-bit key/).check();
  // Without the confirmation SES is not asked, and what was typed stays.
  const refused = signingAnswer(page);
  await form.getByRole("button", { name: "Apply" }).click();
  expect((await refused).status()).toBe(422);
  await expect(page.getByTestId("write-error")).toContainText("Confirm the change first");
  await expect(form.getByLabel("BYODKIM selector")).toHaveValue("pw2026");
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");

  await form.getByLabel(/I understand/).check();
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("write-outcome")).toContainText(
    `${domain} now signs with your key under selector pw2026`,
  );
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  await expect(page.getByTestId("origin")).toHaveText("BYODKIM");
  await expectByodkimTxt(page, domain, "pw2026");
  // The re-rendered form is fresh: nothing confirmed for the next change, no key kept.
  await expect(form.getByLabel(/I understand/)).not.toBeChecked();
  await expect(form.getByLabel(/BYODKIM private key/)).toHaveValue("");
  // The change opened the identity's page anew (the answer kept for it); its islands
  // send the next change.
  await expect(page).toHaveURL(/\?notice=/);
  await hydrated(page);

  await form.getByLabel(/^Easy DKIM \(/).check();
  await form.getByLabel(/I understand/).check();
  const switchedPage = page.url();
  await form.getByRole("button", { name: "Apply" }).click();
  await changeLanded(page, switchedPage);
  await expect(page.getByTestId("write-outcome")).toContainText("Easy DKIM");
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  const after = await expectThreeCnames(page, domain);
  expect(after, "new tokens").not.toEqual(before);

  // Both changes are in the audit log, newest first, on the page and on Activity.
  const changes = page.getByTestId("change-row");
  await expect(changes.nth(0)).toContainText("switch to Easy DKIM");
  await expect(changes.nth(1)).toContainText("switch to BYODKIM (selector pw2026)");
  await expect(changes.nth(1)).toHaveAttribute("data-outcome", "done");

  // The history saw both switches (the recorder follows the inventory, so reload until
  // it has), each linked to its audit entry.
  const origins = page.getByTestId("timeline").locator('li[data-field="origin"]');
  await expect(async () => {
    await page.reload();
    await expect(origins).toHaveCount(2, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(origins.nth(0)).toContainText("BYODKIM → Easy DKIM");
  await expect(origins.nth(1)).toContainText("Easy DKIM → BYODKIM");
  await expect(origins.nth(0).getByRole("link", { name: "changed through dkimdash" })).toHaveAttribute(
    "href",
    /^\/activity\?identity=.+#change-\d+$/,
  );
  await page.getByRole("link", { name: "Activity", exact: true }).click();
  await page.getByLabel("Identity").fill(domain);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page.getByTestId("change-row")).toHaveCount(2);
  await expect(page.getByTestId("change-row").first()).toContainText("local");
  expect(errors, "console errors").toEqual([]);
});

test("a bad selector is refused by name and the form keeps what was typed", async ({ page }) => {
  const errors = collectConsoleErrors(page, { expectedStatuses: [422] });
  await gotoIdentity(page, "us-east-1", "events.acme.example");
  await hydrated(page);
  const form = page.getByTestId("signing-form");
  await form.getByLabel("BYODKIM (your own key; one TXT record)").check();
  await form.getByLabel("BYODKIM selector").fill("bad_selector!");
  await form.getByLabel(/BYODKIM private key/).fill("-----BEGIN PRIVATE KEY-----\nnot a key\n");
  await form.getByLabel(/I understand/).check();
  const refused = signingAnswer(page);
  await form.getByRole("button", { name: "Apply" }).click();
  const answer = await refused;
  expect(answer.status()).toBe(422);
  expect(await answer.json()).toMatchObject({ Invalid: { field: "Selector" } });
  await expect(page.getByTestId("write-error")).toContainText("Selector");
  await expect(form.getByLabel("BYODKIM selector")).toHaveValue("bad_selector!");
  await expect(form.getByLabel(/BYODKIM private key/)).toHaveValue("");
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");
  expect(errors, "console errors").toEqual([]);
});

test("add a domain, see its three CNAMEs, then replicate it with DEED", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  await gotoIdentity(page, "us-east-1", SWITCHED_WITH_JS);
  await hydrated(page);
  await page.getByRole("link", { name: "Add a domain" }).click();
  await expect(page).toHaveURL(/\/add$/);
  // The form is sent by its island (a JSON answer), which then opens the new identity.
  await hydrated(page);
  const form = page.getByTestId("add-domain-form");
  await form.getByLabel("Region", { exact: true }).selectOption("eu-west-1");
  await form.getByLabel("Domain", { exact: true }).fill("  Added-With-JS.Example. ");
  await form.getByLabel("Easy DKIM key length").selectOption("1024");
  const added = page.waitForResponse((r) => r.url().endsWith("/api/dkim/add"));
  await form.getByRole("button", { name: "Add domain" }).click();
  expect((await added).headers()["content-type"]).toContain("application/json");

  const domain = "added-with-js.example";
  await expect(page).toHaveURL(new RegExp(`/identity/eu-west-1/${domain}\\?notice=`));
  await expect(page.getByTestId("write-outcome")).toContainText(`Added ${domain} in eu-west-1`);
  await expect(page.getByTestId("identity-name")).toHaveText(domain);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  await expectThreeCnames(page, domain);

  await hydrated(page);
  const replica = page.getByTestId("replica-form");
  await replica.getByLabel("Create a DEED replica in").selectOption("us-east-1");
  await replica.getByRole("button", { name: "Create replica" }).click();
  await expect(page).toHaveURL(new RegExp(`/identity/us-east-1/${domain}\\?notice=`));
  await expect(page.getByTestId("origin")).toHaveText("DEED replica of eu-west-1");
  await expect(page.getByTestId("parent-link")).toHaveText(`${domain} in eu-west-1`);
  expect(errors, "console errors").toEqual([]);
});
