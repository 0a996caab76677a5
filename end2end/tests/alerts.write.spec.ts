import { createServer, type Server } from "node:http";
import { expect, test } from "@playwright/test";
import { collectConsoleErrors } from "./console";
import { changeLanded, gotoIdentity, hydrated } from "./loaded";
import { WEBHOOK_PORT } from "./webhook";

// Runs in the "writes" project: its dashboard posts alerts to WEBHOOK_PORT (alerts.toml).

/** An Easy DKIM SUCCESS domain of the seed no other write test changes. */
const DOMAIN = "docs.acme.example";

type Post = { path: string; body: any };

/** A webhook receiver on loopback keeping every post. */
async function receiver(): Promise<{ posts: Post[]; server: Server }> {
  const posts: Post[] = [];
  const server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => (text += chunk));
    request.on("end", () => {
      posts.push({ path: request.url ?? "", body: JSON.parse(text) });
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(WEBHOOK_PORT, "127.0.0.1", resolve));
  return { posts, server };
}

/** The posts about DOMAIN's signing being off. */
function aboutDomain(posts: Post[]) {
  return posts
    .map((p) => p.body)
    .filter((b) => b.alerts?.[0]?.labels?.alertname === "DkimSigningOff" && b.alerts[0].labels.identity === DOMAIN);
}

test("turning signing off fires an alert to the webhook; turning it on resolves it", async ({ page }) => {
  const errors = collectConsoleErrors(page);
  const { posts, server } = await receiver();
  try {
    await gotoIdentity(page, "us-east-1", DOMAIN);
    await hydrated(page);
    const form = page.getByTestId("enabled-form");
    await form.getByLabel(/I understand/).check();
    const before = page.url();
    await form.getByRole("button", { name: "Turn signing off" }).click();
    await changeLanded(page, before);

    // Posted once, as Alertmanager would, linking the identity's page.
    await expect.poll(() => aboutDomain(posts).length, { timeout: 20_000 }).toBe(1);
    const firing = aboutDomain(posts)[0];
    expect(firing.version).toBe("4");
    expect(firing.status).toBe("firing");
    expect(firing.receiver).toBe("e2e-webhook");
    expect(firing.groupLabels).toEqual(firing.alerts[0].labels);
    expect(firing.alerts[0].labels).toEqual({
      account: "demo",
      alertname: "DkimSigningOff",
      identity: DOMAIN,
      region: "us-east-1",
      severity: "warning",
    });
    expect(firing.alerts[0].generatorURL).toBe(`http://127.0.0.1:3002/identity/us-east-1/${DOMAIN}?account=demo`);
    expect(firing.alerts[0].endsAt).toBe("0001-01-01T00:00:00Z");
    expect(posts.every((p) => p.path === "/hook/e2e-secret")).toBe(true);

    // The Alerts page shows it firing and delivered; the secret part of the URL is not shown.
    await page.goto("/alerts");
    const row = page.locator('[data-testid="firing-row"][data-rule="DkimSigningOff"]').filter({ hasText: DOMAIN });
    await expect(row).toHaveCount(1);
    const delivered = page
      .locator('[data-testid="delivery-row"][data-status="firing"]')
      .filter({ hasText: `${DOMAIN}: DKIM signing is turned off` });
    await expect(delivered).toHaveAttribute("data-state", "delivered");
    await expect(page.getByTestId("receivers")).toContainText(
      "e2e-webhook (alertmanager) http://127.0.0.1/… · gets every severity · each alert on its own, first post after 1 s, then at most every 2 s",
    );
    await expect(page.locator("body")).not.toContainText("e2e-secret");

    // Signing on again: resolved, once, with the same fingerprint.
    await gotoIdentity(page, "us-east-1", DOMAIN);
    await hydrated(page);
    const beforeOn = page.url();
    await page.getByTestId("enabled-form").getByRole("button", { name: "Turn signing on" }).click();
    await changeLanded(page, beforeOn);
    await expect.poll(() => aboutDomain(posts).length, { timeout: 20_000 }).toBe(2);
    const resolved = aboutDomain(posts)[1];
    expect(resolved.status).toBe("resolved");
    expect(resolved.alerts[0].fingerprint).toBe(firing.alerts[0].fingerprint);
    expect(resolved.alerts[0].startsAt).toBe(firing.alerts[0].startsAt);
    expect(resolved.alerts[0].endsAt).not.toBe("0001-01-01T00:00:00Z");
    await page.goto("/alerts");
    await expect(
      page.locator('[data-testid="firing-row"][data-rule="DkimSigningOff"]').filter({ hasText: DOMAIN }),
    ).toHaveCount(0);
  } finally {
    server.close();
  }
  expect(errors, "console errors").toEqual([]);
});
