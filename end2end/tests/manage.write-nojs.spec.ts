import { expect, test } from "@playwright/test";
import { gotoIdentity } from "./loaded";
import {
  SWITCHED_WITHOUT_JS,
  expectByodkimTxt,
  expectThreeCnames,
  statusBadge,
} from "./writes";

// Runs in the "writes-no-js" project: JavaScript is off, every form is a plain POST that
// comes back to a page showing SES's answer.

test("without JavaScript: switch Easy DKIM → BYODKIM with a generated key → Easy DKIM", async ({
  page,
}) => {
  const domain = SWITCHED_WITHOUT_JS;
  await gotoIdentity(page, "us-east-1", domain);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "SUCCESS");
  const before = await expectThreeCnames(page, domain);

  let form = page.getByTestId("signing-form");
  await form.getByLabel("BYODKIM (your own key; one TXT record)").check();
  await form.getByLabel("BYODKIM selector").fill("nojs1");
  await form.getByLabel(/Generate a 2048-bit key/).check();
  await form.getByRole("button", { name: "Apply" }).click();
  // Refused: back on the page with the reason, the typed selector and choices kept.
  await expect(page).toHaveURL(new RegExp(`/identity/us-east-1/${domain}\\?notice=`));
  await expect(page.getByTestId("write-error")).toContainText("Confirm the change first");
  form = page.getByTestId("signing-form");
  await expect(form.getByLabel("BYODKIM selector")).toHaveValue("nojs1");
  await expect(form.getByLabel(/Generate a 2048-bit key/)).toBeChecked();
  await expect(form.getByLabel(/I understand/)).not.toBeChecked();

  await form.getByLabel(/I understand/).check();
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("write-outcome")).toContainText("under selector nojs1");
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  await expect(page.getByTestId("origin")).toHaveText("BYODKIM");
  await expectByodkimTxt(page, domain, "nojs1");

  form = page.getByTestId("signing-form");
  await form.getByLabel(/^Easy DKIM \(/).check();
  await form.getByLabel(/I understand/).check();
  await form.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");
  const after = await expectThreeCnames(page, domain);
  expect(after, "new tokens").not.toEqual(before);
});

test("without JavaScript: add an IDN domain and land on its page with three CNAMEs", async ({
  page,
}) => {
  await gotoIdentity(page, "us-east-1", SWITCHED_WITHOUT_JS);
  await page.getByRole("link", { name: "Add a domain" }).click();
  const form = page.getByTestId("add-domain-form");
  await form.getByLabel("Domain", { exact: true }).fill("Bücher-NoJS.Example");
  await form.getByRole("button", { name: "Add domain" }).click();
  const domain = "xn--bcher-nojs-9db.example";
  await expect(page).toHaveURL(new RegExp(`/identity/us-east-1/${domain}\\?notice=`));
  await expect(page.getByTestId("write-outcome")).toContainText(`Added ${domain}`);
  await expect(statusBadge(page)).toHaveAttribute("data-status", "PENDING");
  await expectThreeCnames(page, domain);

  // The same again: refused, back on the add page with the domain as typed.
  await page.getByRole("link", { name: "Add a domain" }).click();
  await page.getByTestId("add-domain-form").getByLabel("Domain", { exact: true }).fill("Bücher-NoJS.Example");
  await page.getByTestId("add-domain-form").getByRole("button", { name: "Add domain" }).click();
  await expect(page).toHaveURL(/\/add\?notice=/);
  await expect(page.getByTestId("write-error")).toContainText("already exists");
  await expect(page.getByTestId("add-domain-form").getByLabel("Domain", { exact: true })).toHaveValue(
    "Bücher-NoJS.Example",
  );
});
