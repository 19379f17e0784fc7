import type { Deps } from "./deps.ts";
import { createExportsService } from "./modules/account-data/exports.ts";
import { createApiKeysService } from "./modules/api-keys/api-keys.service.ts";
import { createAuditService } from "./modules/audit/audit.service.ts";
import { createAuthService } from "./modules/auth/auth.service.ts";
import { createCspReportsService } from "./modules/csp-reports/csp-reports.service.ts";
import { createBatchesService } from "./modules/identification-batches/batches.service.ts";
import { createIdentificationsService } from "./modules/identifications/identifications.service.ts";
import { createJobsService } from "./modules/jobs/jobs.service.ts";
import { createLegacySpeciesService } from "./modules/legacy/legacy-species.service.ts";
import { createFeedbackService } from "./modules/models/feedback.service.ts";
import { createModelsService } from "./modules/models/models.service.ts";
import { createPerformanceService } from "./modules/models/performance.service.ts";
import { createNotificationsService } from "./modules/notifications/notifications.service.ts";
import { createProvidersService } from "./modules/providers/providers.service.ts";
import { createSpeciesAdminService } from "./modules/species/species.admin.service.ts";
import { createSpeciesService } from "./modules/species/species.service.ts";
import { createUploadsService } from "./modules/uploads/uploads.service.ts";
import { createAdminUsersService } from "./modules/users/admin-users.service.ts";
import { createUsersService } from "./modules/users/users.service.ts";

/**
 * Every module's service, built once from the deps. REST routers, the GraphQL layer and workers take them from
 * here, so one instance (its caches, throttles and metric series) serves every transport. Services take plain
 * arguments and throw AppError (src/core/app-error.ts); transports map both.
 */
export function buildServices(deps: Deps) {
  const species = createSpeciesService(deps);
  return {
    species,
    speciesAdmin: createSpeciesAdminService(deps, species),
    auth: createAuthService(deps),
    users: createUsersService(deps),
    adminUsers: createAdminUsersService(deps),
    accountExports: createExportsService(deps),
    apiKeys: createApiKeysService(deps),
    audit: createAuditService(deps),
    identifications: createIdentificationsService(deps),
    identificationBatches: createBatchesService(deps),
    uploads: createUploadsService(deps),
    providers: createProvidersService(deps),
    models: createModelsService(deps),
    modelFeedback: createFeedbackService(deps),
    modelPerformance: createPerformanceService(deps),
    notifications: createNotificationsService(deps),
    jobs: createJobsService(deps),
    cspReports: createCspReportsService(deps),
    // The catalogue in the shape shipped app builds read (legacy adapters, until LEGACY_SUNSET).
    legacySpecies: createLegacySpeciesService(deps),
  };
}

export type Services = ReturnType<typeof buildServices>;
