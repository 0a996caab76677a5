import { expect } from "@playwright/test";

/**
 * Waits until this machine's clock (the server's too: both run here) has passed the Unix
 * second `unixSeconds`, so a time the server records next, in whole seconds, is later.
 */
export async function nextSecond(unixSeconds: number): Promise<void> {
  await expect
    .poll(() => Math.floor(Date.now() / 1000), { timeout: 5_000, intervals: [50] })
    .toBeGreaterThan(unixSeconds);
}
