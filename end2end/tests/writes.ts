import { expect, type Page } from "@playwright/test";

// Identities of the demo seed the write tests change (on their own dashboard, see
// playwright.config.ts): Easy DKIM, 2048-bit, SUCCESS, signing on, in us-east-1.
export const SWITCHED_WITH_JS = "careers.acme.example";
export const SWITCHED_WITHOUT_JS = "status.acme.example";

/** The identity's status badge (in the page heading). */
export function statusBadge(page: Page) {
  return page.locator("#identity-heading .badge");
}

/** The DNS records shown: [name, value] per row. */
export async function shownRecords(page: Page): Promise<[string, string][]> {
  const names = await page.getByTestId("record-name").allTextContents();
  const values = await page.getByTestId("record-value").allTextContents();
  return names.map((name, i) => [name, values[i]]);
}

/** Three Easy DKIM CNAMEs of `domain`: TOKEN._domainkey.DOMAIN → TOKEN.dkim.amazonses.com. */
export async function expectThreeCnames(page: Page, domain: string): Promise<string[]> {
  await expect(page.getByTestId("record-name")).toHaveCount(3);
  const records = await shownRecords(page);
  const tokens = records.map(([name, value]) => {
    const token = name.split(".")[0];
    expect(name).toBe(`${token}._domainkey.${domain}`);
    expect(value).toBe(`${token}.dkim.amazonses.com`);
    expect(token).toMatch(/^[a-z0-9]{32}$/);
    return token;
  });
  return tokens;
}

/** One BYODKIM TXT record under `selector` with the public key the dashboard derived. */
export async function expectByodkimTxt(page: Page, domain: string, selector: string) {
  await expect(page.getByTestId("record-name")).toHaveText([`${selector}._domainkey.${domain}`]);
  await expect(page.getByTestId("record-value")).toHaveText([/^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]{300,}$/]);
}
