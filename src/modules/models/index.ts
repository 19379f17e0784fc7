import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { createRouter } from "../../http/router.ts";
import { authOf } from "../../http/security.ts";
import type { Services } from "../../services.ts";
import { auditActor } from "../audit/audit.record.ts";
import {
  changeExperimentRoute,
  createExperimentRoute,
  getExperimentRoute,
  giveFeedbackRoute,
  listExperimentsRoute,
  listModelsRoute,
  modelPerformanceRoute,
  registerModelRoute,
  stopExperimentRoute,
  updateModelRoute,
} from "./models.routes.ts";

/** Model registry, experiments, feedback and the performance report (issue 15). */
export function modelsRouter(services: Services) {
  const { models, modelFeedback: feedback, modelPerformance: performance } = services;
  const admin = (c: Parameters<typeof auditActor>[0] & { var: { clientKey: string } }) => ({
    actor: auditActor(c),
    clientKey: c.var.clientKey,
  });

  const giveFeedback: RouteHandler<typeof giveFeedbackRoute, AppEnv> = async (c) => {
    const { id } = c.req.valid("param");
    const caller = { userId: authOf(c).userId, actor: auditActor(c), clientKey: c.var.clientKey };
    const { feedback: dto, created } = await feedback.give(caller, id, c.req.valid("json"));
    return created ? c.json(dto, 201) : c.json(dto, 200);
  };

  return createRouter()
    .openapi(modelPerformanceRoute, async (c) =>
      c.json(await performance.report(c.req.valid("query"), c.var.clientKey), 200),
    )
    .openapi(listModelsRoute, async (c) => c.json({ data: await models.listModels() }, 200))
    .openapi(registerModelRoute, async (c) =>
      c.json(await models.registerModel(c.req.valid("json"), admin(c)), 201),
    )
    .openapi(updateModelRoute, async (c) =>
      c.json(await models.updateModel(c.req.valid("param").id, c.req.valid("json").status, admin(c)), 200),
    )
    .openapi(listExperimentsRoute, async (c) => c.json({ data: await models.listExperiments() }, 200))
    .openapi(getExperimentRoute, async (c) =>
      c.json(await models.getExperiment(c.req.valid("param").id), 200),
    )
    .openapi(createExperimentRoute, async (c) =>
      c.json(await models.createExperiment(c.req.valid("json"), admin(c)), 201),
    )
    .openapi(changeExperimentRoute, async (c) =>
      c.json(await models.changeWeights(c.req.valid("param").id, c.req.valid("json").weights, admin(c)), 200),
    )
    .openapi(stopExperimentRoute, async (c) =>
      c.json(await models.stop(c.req.valid("param").id, admin(c)), 200),
    )
    .openapi(giveFeedbackRoute, giveFeedback);
}
