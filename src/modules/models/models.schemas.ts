import { z } from "@hono/zod-openapi";
import { text } from "../../http/text.ts";
import { IDENTIFY_PROVIDERS } from "../../infra/providers/registry.ts";

const Uuid = z.string().uuid().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" });
const Instant = z.string().datetime({ offset: true });

export const ModelSettingsSchema = z
  .object({
    project: text()
      .regex(/^[a-z0-9-]{1,64}$/)
      .optional()
      .openapi({ description: "PlantNet: the project (flora) asked.", example: "k-middle-europe" }),
    classificationLevel: z
      .enum(["species", "all", "genus"])
      .optional()
      .openapi({ description: "Plant.id: `classification_level` sent with each request." }),
  })
  .strict()
  .openapi("ModelSettings");

const ModelStatus = z.enum(["active", "shadow", "retired"]).openapi({
  description:
    "active: may answer users; shadow: may only be called as a shadow; retired: no new experiment uses it.",
});

export const ModelSchema = z
  .object({
    id: Uuid,
    provider: z.enum(IDENTIFY_PROVIDERS).openapi({ description: "A provider of the registry." }),
    version: z.string().openapi({
      description:
        "As the provider reports it: Plant.id's `model_version`, PlantNet's `plantnet:` + `version`.",
      example: "plant_id:3.7.0",
    }),
    settings: ModelSettingsSchema,
    status: ModelStatus,
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi("Model");

export const CreateModelSchema = z
  .object({
    provider: z.enum(IDENTIFY_PROVIDERS),
    version: text().min(1).max(100).openapi({ example: "plant_id:3.7.0" }),
    settings: ModelSettingsSchema.default({}),
    status: ModelStatus.default("active"),
  })
  .strict()
  .openapi("CreateModel");

export const UpdateModelSchema = z.object({ status: ModelStatus }).strict().openapi("UpdateModel");
export const ModelListSchema = z.object({ data: z.array(ModelSchema) }).openapi("ModelList");

const VariantKey = text()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/)
  .openapi({ description: "Short name, also the `variant` label of the metrics.", example: "control" });
const Weight = z.number().int().min(0).max(10_000).openapi({
  description: "Share of users in basis points (out of 10,000); the variants' weights sum to 10,000.",
  example: 8000,
});

const Merge = z.enum(["combined", "first_answer"]).openapi({
  description:
    "combined: the suggestions of every answering model merged (Plant.id first, PlantNet enriching); " +
    "first_answer: only the first answering model's suggestions, in the order of `models`.",
});

export const VariantSchema = z
  .object({
    key: VariantKey,
    control: z.boolean(),
    weight: Weight,
    buckets: z
      .array(z.array(z.number().int()).length(2))
      .openapi({ description: "The bucket ranges [start, end) out of 10,000 this variant owns." }),
    models: z.array(Uuid).openapi({ description: "The models that answer, in order." }),
    shadowModels: z
      .array(Uuid)
      .openapi({ description: "Called too, never shown: their answers are only recorded." }),
    merge: Merge,
  })
  .openapi("ExperimentVariant");

export const ExperimentSchema = z
  .object({
    id: Uuid,
    name: z.string(),
    status: z.enum(["running", "stopped"]),
    variants: z.array(VariantSchema),
    createdAt: Instant,
    updatedAt: Instant,
    stoppedAt: Instant.nullable(),
  })
  .openapi("Experiment");

export const ExperimentListSchema = z.object({ data: z.array(ExperimentSchema) }).openapi("ExperimentList");

export const CreateExperimentSchema = z
  .object({
    name: text().min(1).max(200).openapi({ example: "Plant.id 3.7 vs 3.6" }),
    variants: z
      .array(
        z
          .object({
            key: VariantKey,
            control: z.boolean().default(false),
            weight: Weight,
            models: z.array(Uuid).min(1).max(4),
            shadowModels: z.array(Uuid).max(4).default([]),
            merge: Merge.default("combined"),
          })
          .strict(),
      )
      .min(2)
      .max(5),
  })
  .strict()
  .openapi("CreateExperiment");

export const UpdateExperimentSchema = z
  .object({
    weights: z.record(VariantKey, Weight).openapi({
      description: "New weights by variant key; variants left out keep theirs. Sum: 10,000.",
      example: { control: 7000, b: 2000 },
    }),
  })
  .strict()
  .openapi("UpdateExperiment");

export const FeedbackInputSchema = z
  .object({
    correct: z.boolean().openapi({ description: "Whether the top suggestion shown was right." }),
    speciesId: Uuid.optional().openapi({
      description: "The species the plant really is, when the user knows.",
    }),
  })
  .strict()
  .openapi("FeedbackInput");

export const FeedbackSchema = z
  .object({
    identificationId: Uuid,
    correct: z.boolean(),
    speciesId: Uuid.nullable(),
    createdAt: Instant,
    updatedAt: Instant,
  })
  .openapi("Feedback");

export const PerformanceQuerySchema = z.object({
  from: Instant.optional().openapi({
    param: { name: "from", in: "query" },
    description: "Identifications created at or after.",
  }),
  to: Instant.optional().openapi({
    param: { name: "to", in: "query" },
    description: "Identifications created before.",
  }),
  experiment: Uuid.optional().openapi({
    param: { name: "experiment", in: "query" },
    description: "Only this experiment's identifications (per variant figures need it, or the running one).",
  }),
});

const IntervalSchema = z.object({ low: z.number(), high: z.number() }).openapi("Interval");

const Figures = {
  count: z.number().int().openapi({ description: "Calls (per model) or identifications (per variant)." }),
  meanConfidence: z.number().nullable(),
  highConfidenceRate: z
    .number()
    .nullable()
    .openapi({ description: "Share of answers with confidence > 0.8." }),
  latencyP50Ms: z
    .number()
    .nullable()
    .openapi({ description: "Over calls really made (cached answers left out)." }),
  latencyP95Ms: z.number().nullable(),
  failureRate: z
    .number()
    .nullable()
    .openapi({ description: "failed or circuit_open, over calls that were attempted." }),
  feedbackCount: z.number().int(),
  accuracy: z.number().nullable().openapi({ description: "Share of feedback saying the answer was right." }),
  accuracyInterval: IntervalSchema.nullable().openapi({
    description: "95 % Wilson score interval of `accuracy`.",
  }),
};

export const PerformanceReportSchema = z
  .object({
    from: Instant.nullable(),
    to: Instant.nullable(),
    experiment: Uuid.nullable(),
    models: z.array(
      z.object({
        modelId: Uuid.nullable(),
        provider: z.string(),
        version: z.string().nullable(),
        role: z.enum(["answer", "shadow"]),
        ...Figures,
      }),
    ),
    variants: z.array(
      z.object({
        variant: z.string(),
        control: z.boolean(),
        ...Figures,
        versusControl: z
          .object({ difference: z.number(), z: z.number(), pValue: z.number() })
          .nullable()
          .openapi({
            description: "Accuracy against the control's: two-sided two-proportion z-test (pooled).",
          }),
      }),
    ),
  })
  .openapi("ModelPerformanceReport");

export type Model = z.infer<typeof ModelSchema>;
export type CreateModel = z.infer<typeof CreateModelSchema>;
export type Experiment = z.infer<typeof ExperimentSchema>;
export type CreateExperiment = z.infer<typeof CreateExperimentSchema>;
export type Feedback = z.infer<typeof FeedbackSchema>;
export type PerformanceQuery = z.infer<typeof PerformanceQuerySchema>;
export type PerformanceReport = z.infer<typeof PerformanceReportSchema>;
