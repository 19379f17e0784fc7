/**
 * A list page as services return it: the items and the opaque cursor of the next page, no URLs. Transports add
 * their own navigation (REST: src/http/pagination.ts).
 */
export type Page<T> = { data: T[]; nextCursor: string | null };

/** The transport page type `P` without its links: what a service returns for it. */
export type Unlinked<P extends { links: unknown }> = Omit<P, "links">;
