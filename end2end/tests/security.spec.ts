import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoLoaded, hydrated } from "./loaded";
import { idle } from "./sweeps";

test("the app hydrates and works under its Content-Security-Policy", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  // Added by Playwright itself, so the policy does not apply to this listener.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const response = await page.goto("/");
  const policy = response?.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'nonce-[A-Za-z0-9_-]{16,}' 'strict-dynamic' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain("unsafe-inline");

  await gotoLoaded(page, "/");
  await hydrated(page);
  // The island sends its form from the page and shows the server function's answer.
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/refresh_inventory"));
  await page.getByRole("button", { name: "Refresh now" }).click();
  expect((await answered).headers()["content-type"]).toContain("application/json");
  await expect(page.getByTestId("refresh-answer")).toBeVisible();
  // (Refreshed by an earlier test, it says when the next may start; a sweep it started
  // would reload the page when done: wait until none runs before moving on.)
  await idle(page);
  await page.getByRole("link", { name: "acme.example", exact: true }).click();
  await hydrated(page);
  const violations = await page.evaluate(
    () => (window as unknown as { cspViolations: string[] }).cspViolations,
  );
  expect(violations, "CSP violations").toEqual([]);
  expect(errors, "console errors").toEqual([]);
});
