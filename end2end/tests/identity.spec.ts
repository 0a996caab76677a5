import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoIdentity, gotoLoaded, hydrated } from "./loaded";
import { CNAME_NAME, CNAME_VALUE, EASY_DKIM_DOMAIN } from "./seed";

const detailPath = `/identity/us-east-1/${EASY_DKIM_DOMAIN}`;

/** The records as shown: [name, value] per row. */
async function shownRecords(page: import("@playwright/test").Page): Promise<[string, string][]> {
  const names = await page.getByTestId("record-name").allTextContents();
  const values = await page.getByTestId("record-value").allTextContents();
  return names.map((name, i) => [name, values[i]]);
}

test("the detail page shows the three CNAMEs and the copy buttons copy them exactly", async ({
  page,
}) => {
  const errors = collectConsoleErrors(page);
  await gotoLoaded(page, "/");
  await page.getByRole("link", { name: EASY_DKIM_DOMAIN, exact: true }).click();
  await expect(page).toHaveURL(detailPath);
  await expect(page.getByTestId("identity-name")).toHaveText(EASY_DKIM_DOMAIN);
  await expect(page.getByTestId("origin")).toHaveText("Easy DKIM");

  await expect(page.getByTestId("record-name")).toHaveCount(3);
  const records = await shownRecords(page);
  for (const [name, value] of records) {
    expect(name).toMatch(CNAME_NAME);
    expect(value).toMatch(CNAME_VALUE);
    expect(value.split(".")[0]).toBe(name.split(".")[0]);
  }

  await hydrated(page);
  const [name, value] = records[1];
  const copyName = page.getByRole("button", { name: `Copy CNAME record name ${name}` });
  await copyName.click();
  await expect(copyName).toHaveText("Copied ✓");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(name);

  const copyValue = page.getByRole("button", { name: `Copy CNAME record value for ${name}` });
  await copyValue.click();
  await expect(copyValue).toHaveText("Copied ✓");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

  await page.getByRole("button", { name: "Copy all records as zone-file lines" }).click();
  const zone = records.map(([n, v]) => `${n}. 3600 IN CNAME ${v}.\n`).join("");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(zone);
  expect(errors, "console errors").toEqual([]);
});

test("the CSV download holds exactly the records shown, with their DNS check", async ({ page }) => {
  test.setTimeout(120_000);
  // Once the background DNS check has run (the demo publishes this domain's records right).
  await expect(async () => {
    await page.goto(detailPath);
    await expect(page.locator('[data-testid="record-state"][data-finding="ok"]')).toHaveCount(3, {
      timeout: 1_000,
    });
  }).toPass({ timeout: 90_000 });
  const records = await shownRecords(page);
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "CSV" }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`dkim-${EASY_DKIM_DOMAIN}.csv`);
  const csv = await readFile(await download.path(), "utf8");
  const expected =
    "Type,Name,Value,DNS check,DNS detail\r\n" +
    records.map(([n, v]) => `CNAME,${n},${v},ok,Published as expected.\r\n`).join("");
  expect(csv).toBe(expected);
});

test("an unknown identity answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/identity/us-east-1/not-there.example");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Identity not found" })).toBeVisible();
  await page.getByRole("link", { name: "Back to all identities" }).click();
  await expect(page.getByRole("heading", { name: "DKIM overview" })).toBeVisible();
});

test("screenshots of the overview and a detail page, light and dark", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await gotoLoaded(page, "/");
    await page.screenshot({ path: test.info().outputPath(`overview-${scheme}.png`), fullPage: true });
    await page.goto(detailPath);
    await hydrated(page);
    await page.screenshot({ path: test.info().outputPath(`identity-${scheme}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await gotoLoaded(page, "/");
  await page.screenshot({ path: test.info().outputPath("overview-phone.png"), fullPage: true });
  // The page must not overflow a phone's width (the table scrolls inside its box).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("on a phone, record names and CNAME targets wrap only after their dots", async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 800 });
  await gotoIdentity(page, "us-east-1", EASY_DKIM_DOMAIN);
  for (const testId of ["record-name", "record-value"]) {
    const shown = await page.getByTestId(testId).first().evaluate((code) => {
      // The character before each line break, read from where each character is drawn.
      const range = document.createRange();
      const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
      const drawn: { char: string; top: number }[] = [];
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent ?? "";
        for (let i = 0; i < text.length; i++) {
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          drawn.push({ char: text[i], top: Math.round(range.getBoundingClientRect().top) });
        }
      }
      const before = drawn.filter((c, i) => i > 0 && c.top > drawn[i - 1].top + 2);
      return {
        lines: before.length + 1,
        endings: before.map((_, i) => drawn[drawn.indexOf(before[i]) - 1].char),
        text: drawn.map((c) => c.char).join(""),
      };
    });
    expect(shown.lines, `${testId} ${shown.text} wraps at 360 px`).toBeGreaterThan(1);
    expect(new Set(shown.endings), `${testId} ${shown.text}`).toEqual(new Set(["."]));
  }
});
