import { defineConfig } from "@playwright/test";

// Drives the system's Chromium (Debian's `chromium` package): this machine has no network
// for Playwright's own browser download. The flags keep Chromium off the network entirely.
const baseURL = process.env.DKIMDASH_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
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
  projects: [
    {
      name: "chromium",
      testIgnore: /\.nojs\.spec\.ts$/,
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
  ],
});
