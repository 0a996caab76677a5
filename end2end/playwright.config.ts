import { defineConfig } from "@playwright/test";
import { WEBHOOK_PORT } from "./tests/webhook";

// Drives the system's Chromium (Debian's `chromium` package): this machine has no network
// for Playwright's own browser download. The flags keep Chromium off the network entirely.
const mainListen = "127.0.0.1:3000";
const baseURL = process.env.DKIMDASH_URL ?? `http://${mainListen}`;
// The write tests change identities, so they get a dashboard (and simulator) of their
// own: the read-only tests keep comparing with the untouched seed.
const writesListen = "127.0.0.1:3002";
const writesURL = process.env.DKIMDASH_WRITES_URL ?? `http://${writesListen}`;
const serverBinary = process.env.DKIMDASH_BIN ?? "../target/release/dkimdash";
// A raised SES quota for the demo (its simulator allows what the dashboard is told): the
// details the tests wait for are read in seconds, not at SES's default one call a second.
const quicker = "--ses-calls-per-second 10";
// No LEPTOS_SITE_ROOT: the release binary serves the site it carries (embed-site), as
// it does when deployed.


export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  // Both dashboards run this build's release binary, started here (not by
  // `cargo leptos end-to-end`, which would build the site again). Each starts with an
  // empty audit log and alert history, so a second run sees only its own changes.
  webServer: [
    {
      // The read-only tests: the demo as `cargo leptos watch` serves it.
      command: `rm -rf ../target/e2e-main && exec ${serverBinary} --listen ${mainListen} --audit-db ../target/e2e-main/audit.sqlite3 ${quicker}`,
      url: `${baseURL}/readyz`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
    },
    {
      // Demo changes stay PENDING for the whole run, so what the tests see is deterministic.
      command: `rm -rf ../target/e2e-writes && exec ${serverBinary} --listen ${writesListen} --demo-verify-after-secs 3600 --audit-db ../target/e2e-writes/audit.sqlite3 --alerts-file alerts.toml --public-url ${writesURL} ${quicker}`,
      url: `${writesURL}/readyz`,
      reuseExistingServer: !process.env.CI,
      timeout: 60_000,
      env: {
        DKIMDASH_E2E_WEBHOOK_URL: `http://127.0.0.1:${WEBHOOK_PORT}/hook/e2e-secret`,
      },
    },
  ],
  projects: [
    {
      name: "chromium",
      testIgnore: [/\.nojs\.spec\.ts$/, /\.write(-nojs)?\.spec\.ts$/],
      // The copy buttons are tested by reading the clipboard back.
      use: { permissions: ["clipboard-read", "clipboard-write"] },
    },
    {
      // The same dashboard with JavaScript off: server rendering, plain GET forms and
      // links, ActionForm posts.
      name: "chromium-no-js",
      testMatch: /\.nojs\.spec\.ts$/,
      use: { javaScriptEnabled: false },
    },
    {
      // DKIM changes, on the second dashboard.
      name: "writes",
      testMatch: /\.write\.spec\.ts$/,
      use: { baseURL: writesURL },
    },
    {
      name: "writes-no-js",
      testMatch: /\.write-nojs\.spec\.ts$/,
      use: { baseURL: writesURL, javaScriptEnabled: false },
    },
  ],
});
