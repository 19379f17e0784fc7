import { z } from "@hono/zod-openapi";
import { PROVIDER_NAMES } from "../../infra/providers/registry.ts";

const QuotaWindow = z.object({
  limit: z.number().int().nullable().openapi({ description: "null: no budget configured (unlimited)." }),
  used: z.number().int(),
  remaining: z.number().int().nullable(),
  resetsAt: z.string().datetime(),
});

export const ProviderStatusSchema = z
  .object({
    name: z
      .enum(PROVIDER_NAMES)
      .openapi({ description: "A provider of the registry (src/infra/providers/registry.ts)." }),
    state: z.enum(["closed", "half_open", "open"]).openapi({
      description:
        "closed: calls pass; open: calls fail fast until `retryInSeconds`; half_open: probing recovery.",
    }),
    available: z
      .boolean()
      .openapi({ description: "Whether the next identification will call this provider." }),
    retryInSeconds: z.number().int().min(0),
    details: z
      .object({
        consecutiveFailures: z.number().int(),
        windowCalls: z.number().int(),
        windowFailures: z.number().int(),
        lastChangeAt: z.string().datetime(),
        coordination: z.enum(["fleet", "local"]).openapi({
          description: "local: Redis is unreachable and this instance decides on its own state.",
        }),
        configured: z
          .boolean()
          .openapi({ description: "false: no API key configured; the provider is skipped." }),
        quota: z.object({ hourly: QuotaWindow, daily: QuotaWindow }),
      })
      .optional()
      .openapi({ description: "Only for callers with the `admin` scope." }),
  })
  .openapi("ProviderStatus");

export const ProviderStatusListSchema = z
  .object({ data: z.array(ProviderStatusSchema) })
  .openapi("ProviderStatusList", {
    example: {
      data: [
        { name: "plant-id", state: "closed", available: true, retryInSeconds: 0 },
        { name: "plant-id-health", state: "closed", available: true, retryInSeconds: 0 },
        { name: "plantnet", state: "open", available: false, retryInSeconds: 42 },
      ],
    },
  });

export type ProviderStatus = z.infer<typeof ProviderStatusSchema>;
