/**
 * The one place list links are made. Services return a page without URLs (`{ data, nextCursor }`); the REST
 * handler adds `links: { self, next }` from the URL the request came to, keeping its own query string.
 */
export type PageLinks = { self: string; next: string | null };

export function pageLinks(selfUrl: URL, nextCursor: string | null): PageLinks {
  const self = `${selfUrl.pathname}${selfUrl.search}`;
  if (!nextCursor) return { self, next: null };
  const next = new URL(selfUrl);
  next.searchParams.set("cursor", nextCursor);
  return { self, next: `${next.pathname}${next.search}` };
}

/** The service's page with the request's `links` added. */
export function withPageLinks<P extends { nextCursor: string | null }>(
  c: { req: { url: string } },
  page: P,
): P & { links: PageLinks } {
  return { ...page, links: pageLinks(new URL(c.req.url), page.nextCursor) };
}
