import { expect, test } from "@playwright/test";

test("the bundle has hashed names, comes precompressed and is cached a year; pages are not shared", async ({
  page,
  request,
}) => {
  const response = await page.goto("/");
  expect(response?.headers()["cache-control"]).toBe("private, no-cache");
  const bundle = await page
    .locator('link[href^="/pkg/"]')
    .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
  // The stylesheet, the JS loader and the WebAssembly, each named by its content's hash.
  for (const kind of ["css", "js", "wasm"]) {
    expect(bundle, kind).toContainEqual(expect.stringMatching(new RegExp(`^/pkg/dkimdash\\.[\\w-]{16,}\\.${kind}$`)));
  }
  for (const href of bundle) {
    for (const [accepted, encoding] of [
      ["br, gzip", "br"],
      ["gzip", "gzip"],
    ]) {
      const file = await request.get(href, { headers: { "accept-encoding": accepted } });
      expect(file.status(), href).toBe(200);
      expect(file.headers()["content-encoding"], `${href} for ${accepted}`).toBe(encoding);
      expect(file.headers()["cache-control"], href).toBe("public, max-age=31536000, immutable");
    }
  }
});
