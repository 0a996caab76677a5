// What a browser downloads on its first visit to an identity page, and how long until the
// page is interactive. Run by scripts/first-load.sh, which starts the dashboard.
//
//   node scripts/first-load.mjs URL [--budget BYTES] [--timing] [--runs N]
//
// Prints each file's bytes raw, gzip (-9) and brotli (q11): the page's HTML and every
// /pkg/ file it loads. --budget fails (exit 1) when the gzip total is over BYTES.
// --timing prints the median navigation → hydrated time (the `data-hydrated` mark on
// <html>) in headless Chromium, on loopback and under an emulated 10 Mbit/s, 40 ms RTT
// link (Chrome DevTools Protocol network emulation), each visit with an empty cache.
import { createRequire } from "node:module";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const require = createRequire(new URL("../end2end/package.json", import.meta.url));
const PAGE = "/identity/us-east-1/acme.example";

const args = process.argv.slice(2);
const base = args[0];
const option = (name) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
if (!base?.startsWith("http")) {
  console.error("usage: first-load.mjs URL [--budget BYTES] [--timing] [--runs N]");
  process.exit(2);
}
const budget = option("--budget") === undefined ? undefined : Number(option("--budget"));
const runs = Number(option("--runs") ?? 9);

async function download(path) {
  // No Accept-Encoding: the bytes as built, compressed here the same way for every file.
  const response = await fetch(new URL(path, base), { headers: { "accept-encoding": "identity" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function sizes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

const html = await download(PAGE);
// The stylesheet, the JS loader and the WebAssembly: every /pkg/ file the page names.
const assets = [...new Set([...html.toString().matchAll(/(?:href|src)="(\/pkg\/[^"]+)"/g)].map((m) => m[1]))];
if (!assets.some((a) => a.endsWith(".wasm")) || !assets.some((a) => a.endsWith(".js"))) {
  console.error(`the page names no WebAssembly or JS bundle: ${assets.join(", ")}`);
  process.exit(1);
}
const files = [[`${PAGE} (HTML)`, sizes(html)]];
for (const asset of assets) files.push([asset, sizes(await download(asset))]);
const total = files.reduce(
  (sum, [, s]) => ({ raw: sum.raw + s.raw, gzip: sum.gzip + s.gzip, brotli: sum.brotli + s.brotli }),
  { raw: 0, gzip: 0, brotli: 0 },
);
const row = (name, s) =>
  console.log(`${name.padEnd(48)} ${String(s.raw).padStart(9)} ${String(s.gzip).padStart(9)} ${String(s.brotli).padStart(9)}`);
console.log(`${"first load of " + PAGE}`.padEnd(48) + "       raw      gzip    brotli");
for (const [name, s] of files) row(name, s);
row("total", total);

if (args.includes("--timing")) {
  const { chromium } = require("@playwright/test");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
  const links = {
    loopback: null,
    "10 Mbit/s, 40 ms RTT": { latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 },
  };
  for (const [label, link] of Object.entries(links)) {
    const times = [];
    for (let run = 0; run < runs; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      if (link) {
        const cdp = await context.newCDPSession(page);
        await cdp.send("Network.enable");
        await cdp.send("Network.emulateNetworkConditions", { offline: false, ...link });
      }
      // Milliseconds from the navigation's start to the mark, taken by the page itself.
      await page.addInitScript(() => {
        new MutationObserver((_, observer) => {
          if (document.documentElement.hasAttribute("data-hydrated")) {
            window.__hydratedAt = performance.now();
            observer.disconnect();
          }
        }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
      });
      await page.goto(new URL(PAGE, base).href);
      await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 30_000 });
      times.push(await page.evaluate(() => window.__hydratedAt));
      await context.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(
      `navigation → hydrated, ${label}: median ${median.toFixed(0)} ms over ${runs} visits (min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)})`,
    );
  }
  await browser.close();
}

if (budget !== undefined) {
  if (total.gzip > budget) {
    console.error(`first load is ${total.gzip} B gzip, over its budget of ${budget} B`);
    process.exit(1);
  }
  console.log(`first load: ${total.gzip} B gzip, within its budget of ${budget} B`);
}
