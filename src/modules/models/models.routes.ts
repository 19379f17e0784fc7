import { createRoute, type z } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import {
  CreateExperimentSchema,
  CreateModelSchema,
  ExperimentListSchema,
  ExperimentSchema,
  FeedbackInputSchema,
  FeedbackSchema,
  ModelListSchema,
  ModelSchema,
  PerformanceQuerySchema,
  PerformanceReportSchema,
  UpdateExperimentSchema,
  UpdateModelSchema,
} from "./models.schemas.ts";

const admin = protect("admin");
const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });
const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, content: json(schema) } });

export const listModelsRoute = createRoute({
  method: "get",
  path: "/admin/models",
  operationId: "listModels",
  tags: ["Admin"],
  summary: "Registered identification models (admin)",
  description:
    "Models an admin registered, and those registered on first sight of a version a provider reported.",
  ...admin,
  responses: {
    200: { description: "Every model.", content: json(ModelListSchema) },
    ...errorResponses(401, 403, 503),
  },
});

export const registerModelRoute = createRoute({
  method: "post",
  path: "/admin/models",
  operationId: "registerModel",
  tags: ["Admin"],
  summary: "Register an identification model (admin)",
  description:
    "A provider with the settings that change its answer, and the version it reports. Audited as `model.register`.",
  ...admin,
  request: body(CreateModelSchema),
  responses: {
    201: { description: "Registered.", content: json(ModelSchema) },
    ...errorResponses(400, 401, 403, 409, 415, 503),
  },
});

export const updateModelRoute = createRoute({
  method: "patch",
  path: "/admin/models/{id}",
  operationId: "updateModel",
  tags: ["Admin"],
  summary: "Change a model's status (admin)",
  description:
    "active, shadow or retired; running experiments keep the models they started with. Audited as `model.update`.",
  ...admin,
  request: { params: UuidParamSchema, ...body(UpdateModelSchema) },
  responses: {
    200: { description: "The model.", content: json(ModelSchema) },
    ...errorResponses(400, 401, 403, 404, 415, 503),
  },
});

export const listExperimentsRoute = createRoute({
  method: "get",
  path: "/admin/experiments",
  operationId: "listExperiments",
  tags: ["Admin"],
  summary: "Model experiments, newest first (admin)",
  description: "Running and stopped experiments with their variants, weights and bucket ranges.",
  ...admin,
  responses: {
    200: { description: "Every experiment.", content: json(ExperimentListSchema) },
    ...errorResponses(401, 403, 503),
  },
});

export const getExperimentRoute = createRoute({
  method: "get",
  path: "/admin/experiments/{id}",
  operationId: "getExperiment",
  tags: ["Admin"],
  summary: "One experiment with its variants (admin)",
  description: "Its variants with their models, shadow models, merge mode, weight and bucket ranges.",
  ...admin,
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The experiment.", content: json(ExperimentSchema) },
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

export const createExperimentRoute = createRoute({
  method: "post",
  path: "/admin/experiments",
  operationId: "createExperiment",
  tags: ["Admin"],
  summary: "Start an experiment between models (admin)",
  description:
    "Starts at once. Each user is assigned for good by SHA-256(experiment id + user id) to one of 10,000 buckets; " +
    "each variant owns a share of them by weight. One experiment runs at a time (409 `experiment_running`). " +
    "Audited as `experiment.create`.",
  ...admin,
  request: body(CreateExperimentSchema),
  responses: {
    201: { description: "Running.", content: json(ExperimentSchema) },
    ...errorResponses(400, 401, 403, 409, 415, 422, 503),
  },
});

export const changeExperimentRoute = createRoute({
  method: "patch",
  path: "/admin/experiments/{id}",
  operationId: "changeExperiment",
  tags: ["Admin"],
  summary: "Change an experiment's weights (admin)",
  description:
    "Only the users in the buckets that change hands move: a shrinking variant gives up its last buckets to the " +
    "growing ones. Audited as `experiment.change`.",
  ...admin,
  request: { params: UuidParamSchema, ...body(UpdateExperimentSchema) },
  responses: {
    200: { description: "The experiment with its new layout.", content: json(ExperimentSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 415, 422, 503),
  },
});

export const stopExperimentRoute = createRoute({
  method: "post",
  path: "/admin/experiments/{id}/stop",
  operationId: "stopExperiment",
  tags: ["Admin"],
  summary: "Stop an experiment (admin)",
  description: "New identifications use the default providers again. Audited as `experiment.stop`.",
  ...admin,
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The stopped experiment.", content: json(ExperimentSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 503),
  },
});

export const modelPerformanceRoute = createRoute({
  method: "get",
  path: "/admin/models/performance",
  operationId: "getModelPerformance",
  tags: ["Admin"],
  summary: "Model and variant performance with feedback accuracy (admin)",
  description:
    "Per model version and role (answer, shadow) and per variant of the experiment (`experiment`, else the " +
    "running one): count, mean confidence, share above 0.8, p50/p95 latency, failure rate, feedback accuracy " +
    "with its 95 % Wilson interval, and each variant against the control (two-proportion z-test). Read on the replica.",
  ...admin,
  request: { query: PerformanceQuerySchema },
  responses: {
    200: { description: "The report.", content: json(PerformanceReportSchema) },
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

export const giveFeedbackRoute = createRoute({
  method: "post",
  path: "/identifications/{id}/feedback",
  operationId: "giveIdentificationFeedback",
  tags: ["Identifications"],
  summary: "Say whether an identification was right",
  description:
    "`correct`: the top suggestion was right; with `speciesId`, the species the plant really is. One per " +
    "identification: sending again replaces it (200). It is the ground truth of the model reports.",
  ...protect("identifications:write"),
  request: { params: UuidParamSchema, ...body(FeedbackInputSchema) },
  responses: {
    200: { description: "The feedback replaced the earlier one.", content: json(FeedbackSchema) },
    201: { description: "Recorded.", content: json(FeedbackSchema) },
    ...errorResponses(400, 401, 403, 404, 409, 415, 422, 503),
  },
});
