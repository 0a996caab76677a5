import type { Page } from "@playwright/test";

/**
 * Collects every console error and uncaught exception a page produces. Chromium also logs
 * every answer with an error status as "Failed to load resource"; a refusal the test
 * provokes on purpose (say 422 for a refused change) is named in `expectedStatuses` and
 * left out, and the test checks that response itself.
 */
export function collectConsoleErrors(
  page: Page,
  { expectedStatuses = [] }: { expectedStatuses?: number[] } = {},
): string[] {
  const expected = expectedStatuses.map(
    (status) => `Failed to load resource: the server responded with a status of ${status} `,
  );
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (!expected.some((prefix) => text.startsWith(prefix))) errors.push(text);
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}
