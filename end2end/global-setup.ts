// `cargo leptos end-to-end` starts the server and the tests together: wait until the
// server answers before any test runs, instead of racing it.
const baseURL = process.env.DKIMDASH_URL ?? "http://127.0.0.1:3000";
const deadlineMs = 60_000;

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let lastError = "";
  while (Date.now() - started < deadlineMs) {
    try {
      const response = await fetch(`${baseURL}/readyz`);
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`dkimdash did not answer at ${baseURL}/readyz within 60 s: ${lastError}`);
}
