// What the demo seed (src/sim/seed.rs) holds; its statuses never change by themselves.
export const SEEDED = 40;
export const SEEDED_BY_STATUS: Record<string, number> = {
  SUCCESS: 24,
  PENDING: 5,
  TEMPORARY_FAILURE: 3,
  FAILED: 5,
  NOT_STARTED: 3,
};
/** An Easy DKIM domain in us-east-1 whose records are three CNAMEs. */
export const EASY_DKIM_DOMAIN = "acme.example";

export const CNAME_NAME = /^[a-z0-9]{32}\._domainkey\.acme\.example$/;
export const CNAME_VALUE = /^[a-z0-9]{32}\.dkim\.amazonses\.com$/;
