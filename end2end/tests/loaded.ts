import { expect, type Page } from "@playwright/test";
import { SEEDED } from "./seed";

/** Opens `path` once the demo's first sweep has landed (the server starts with the tests). */
export async function gotoLoaded(page: Page, path: string): Promise<void> {
  await expect(async () => {
    await page.goto(path);
    await expect(page.getByTestId("identity-total")).toHaveText(String(SEEDED), { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

/** Waits until the page's islands have hydrated: the WebAssembly marks `<html>` then. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "", { timeout: 20_000 });
}

/** Opens an identity's page once the server's first sweep has read it. */
export async function gotoIdentity(page: Page, region: string, name: string): Promise<void> {
  await expect(async () => {
    await page.goto(`/identity/${region}/${name}`);
    await expect(page.getByTestId("identity-name")).toHaveText(name, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
}

/** After a change sent by an island from the page at `before`: the island shows the answer,
 * then opens the page anew with a new `?notice=`; waits for that page so the next navigation
 * does not race it. */
export async function changeLanded(page: Page, before: string): Promise<void> {
  await expect(page.getByTestId("write-outcome")).toBeVisible();
  await expect(page).not.toHaveURL(before);
  await expect(page).toHaveURL(/[?&]notice=/);
  await page.waitForLoadState("load");
  await expect(page.getByTestId("write-outcome")).toBeVisible();
}
