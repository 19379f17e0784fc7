import type { Deps } from "../deps.ts";
import { createIdentificationsService } from "../modules/identifications/identifications.service.ts";
import { createNotificationsService } from "../modules/notifications/notifications.service.ts";

/**
 * The REST modules' services, built once for the GraphQL resolvers. A thin adapter until the service layer is
 * built once in deps (issue #14's refactor): then this file only picks them from there.
 */
export function graphqlServices(deps: Deps) {
  return {
    identifications: createIdentificationsService(deps),
    notifications: createNotificationsService(deps),
  };
}

export type GraphqlServices = ReturnType<typeof graphqlServices>;
