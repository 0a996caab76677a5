import { expect, test } from "@playwright/test";

const IMMUTABLE = "public, max-age=31536000, immutable";

test("the bundle comes from the binary, has hashed names, comes precompressed and is cached a year; pages are not shared", async ({
  page,
  request,
}) => {
  const response = await page.goto("/");
  expect(response?.headers()["cache-control"]).toBe("private, no-cache");
  const bundle = await page
    .locator('link[href^="/pkg/"]')
    .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
  // The stylesheet, the JS loader and the WebAssembly, named by one hash of the three
  // files' hashed names: the site the binary carries (a site read from a directory would
  // keep cargo-leptos's names).
  for (const kind of ["css", "js", "wasm"]) {
    expect(bundle, kind).toContainEqual(expect.stringMatching(new RegExp(`^/pkg/dkimdash\\.[0-9a-f]{16}\\.${kind}$`)));
  }
  for (const href of bundle) {
    const sizes = new Map<string, number>();
    for (const [accepted, encoding] of [
      ["br, gzip", "br"],
      ["gzip", "gzip"],
      ["identity", undefined],
    ] as const) {
      const file = await request.get(href, { headers: { "accept-encoding": accepted } });
      expect(file.status(), href).toBe(200);
      const headers = file.headers();
      expect(headers["content-encoding"], `${href} for ${accepted}`).toBe(encoding);
      expect(headers["cache-control"], href).toBe(IMMUTABLE);
      expect(headers["vary"], href).toMatch(/accept-encoding/i);
      sizes.set(accepted, Number(headers["content-length"]));
    }
    expect(sizes.get("br, gzip")!, `${href}: brotli is smaller than the file`).toBeLessThan(sizes.get("identity")!);
    expect(sizes.get("gzip")!, `${href}: gzip is smaller than the file`).toBeLessThan(sizes.get("identity")!);
  }
});

test("a file the browser already has is not sent again (ETag, If-None-Match: 304)", async ({ page, request }) => {
  await page.goto("/");
  const wasm = await page.locator('link[href$=".wasm"]').getAttribute("href");
  expect(wasm).toBeTruthy();
  const first = await request.get(wasm!, { headers: { "accept-encoding": "br" } });
  const etag = first.headers()["etag"];
  expect(etag, "a quoted entity tag").toMatch(/^(W\/)?"[^"]+"$/);
  const again = await request.get(wasm!, { headers: { "accept-encoding": "br", "if-none-match": etag } });
  expect(again.status()).toBe(304);
  expect((await again.body()).length).toBe(0);
  expect(again.headers()["cache-control"]).toBe(IMMUTABLE);
  const other = await request.get(wasm!, { headers: { "accept-encoding": "br", "if-none-match": '"not-this-one"' } });
  expect(other.status()).toBe(200);
});

test("the favicon is served from the binary, and a bundle name that does not exist is not found", async ({ request }) => {
  const icon = await request.get("/favicon.svg");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toMatch(/^image\/svg\+xml/);
  // Not hashed: revalidated, never kept as immutable.
  expect(icon.headers()["cache-control"]).not.toContain("immutable");
  const missing = await request.get("/pkg/dkimdash.0000000000000000.js");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"] ?? "").not.toContain("immutable");
});
