import { expect, type Page } from "@playwright/test";

/** When the overview's targets were last read (the oldest of them), in Unix seconds. */
export async function lastRead(page: Page): Promise<number> {
  const times = await page
    .getByTestId("target-last-read")
    .evaluateAll((cells) => cells.map((cell) => Number(cell.getAttribute("data-at") ?? "0")));
  expect(times.length, "targets on the overview").toBeGreaterThan(0);
  return Math.min(...times);
}

/** Waits until the clock is past `seconds`, so the next read gets a later time than it. */
export async function clockPast(seconds: number): Promise<void> {
  await expect.poll(() => Math.floor(Date.now() / 1000), { timeout: 5_000 }).toBeGreaterThan(seconds);
}

/** Reloads until every target was read after `seconds`: a sweep has run since. */
export async function expectSweptAfter(page: Page, seconds: number): Promise<void> {
  await expect(async () => {
    await page.reload();
    expect(await lastRead(page)).toBeGreaterThan(seconds);
  }).toPass({ timeout: 15_000 });
}

/**
 * Reloads until no sweep is running (the first one also reads every identity's details,
 * which takes a while): "Refresh now" during a sweep joins it instead of starting one.
 */
export async function idle(page: Page): Promise<void> {
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId("target-last-read").first()).toHaveAttribute("data-at", /^\d+$/, {
      timeout: 1_000,
    });
    await expect(page.getByTestId("sweep-state")).toHaveText("", { timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
}
