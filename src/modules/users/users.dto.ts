import type { UserRow } from "./users.repo.ts";
import type { User } from "./users.schemas.ts";

export function toUserDto(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    emailVerified: row.email_verified_at !== null,
    preferences: row.preferences as User["preferences"],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    links: { self: "/v1/me" },
  };
}

/** For logs and the audit trail: enough to recognise an address, never the address itself. */
export function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  return `${local.slice(0, 1)}***@${domain}`;
}
