// Where the writes dashboard posts its alerts (alerts.toml, playwright.config.ts), and
// where tests/alerts.write.spec.ts listens.
export const WEBHOOK_PORT = 3009;
