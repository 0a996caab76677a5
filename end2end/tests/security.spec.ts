import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { gotoLoaded, hydrated } from "./loaded";

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
  // Hydrated (the WebAssembly ran) and a server function answers from the page.
  await page.getByRole("button", { name: "Refresh now" }).click();
  await expect(page.getByRole("button", { name: "Refresh now" })).toBeEnabled();
  await page.getByRole("link", { name: "acme.example", exact: true }).click();
  await hydrated(page);
  const violations = await page.evaluate(
    () => (window as unknown as { cspViolations: string[] }).cspViolations,
  );
  expect(violations, "CSP violations").toEqual([]);
  expect(errors, "console errors").toEqual([]);
});
