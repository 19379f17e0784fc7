import type { CatalogueSpecies } from "./sim-catalogue.ts";
import { ControlCommand, type SimProvider, SimulatorControl } from "./sim-control.ts";
import { answerPlantId, plantIdError } from "./sim-plant-id.ts";
import { answerPlantNet, plantnetError } from "./sim-plantnet.ts";

export type { CatalogueSpecies } from "./sim-catalogue.ts";
export { NOT_A_PLANT_COLOUR } from "./sim-catalogue.ts";
export { SIM_PROVIDERS, type SimProvider, SimulatorControl } from "./sim-control.ts";

export interface ProviderSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  hostname?: string;
  catalogue: CatalogueSpecies[];
  plantIdKey?: string;
  plantnetKey?: string;
  /** PEM certificate and key: serve https, so a process in its production configuration (https only) can call it. */
  tls?: { cert: string; key: string };
}

export interface ProviderSimulator {
  url: string;
  plantIdBaseUrl: string;
  plantnetBaseUrl: string;
  control: SimulatorControl;
  stop(): Promise<void>;
}

export const DEFAULT_PLANT_ID_KEY = "sim-plant-id-key";
export const DEFAULT_PLANTNET_KEY = "sim-plantnet-key";
const RETRY_AFTER_SECONDS = "30";

/**
 * One HTTP server that speaks both Plant.id v3 and PlantNet v2 (see /work/shared/providers.md), plus a control
 * API under /__sim for tests and dev stacks in other processes:
 * `POST /__sim/control` (a ControlCommand), `GET /__sim/calls`, `POST /__sim/reset`.
 */
export function startProviderSimulator(options: ProviderSimulatorOptions): ProviderSimulator {
  const hostname = options.hostname ?? "127.0.0.1";
  const plantIdKey = options.plantIdKey ?? DEFAULT_PLANT_ID_KEY;
  const plantnetKey = options.plantnetKey ?? DEFAULT_PLANTNET_KEY;
  const control = new SimulatorControl();
  const quota = { remaining: 500 };
  let stopped = false;

  /**
   * The configured latency is the time to the answer, as a provider's is: a call that will be answered normally
   * is checked and answered during the wait, not after it. Before, the checks of a 1 MB photo (JSON or
   * multipart, base64, image inspection) ran after the wait, one call after another on the simulator's one
   * core: at 300 ms the three calls of an identification answered after 381-427 ms (our client's spans, bench
   * identify), and the bench charged that to the API.
   */
  async function throughControl(provider: SimProvider, req: Request, answer: () => Promise<Response>) {
    control.recordCall(provider, req.headers.get("traceparent"));
    const early = control.answersNormally(provider) ? answer() : undefined;
    const latency = control.latencyOf(provider);
    if (latency > 0) await Bun.sleep(latency);
    const hang = await control.waitWhileHanging(provider, req.signal);
    if (hang === "client_gone" || stopped) {
      await early?.catch(() => undefined);
      return new Response(null, { status: 503 });
    }
    const failure = control.takeFailure(provider);
    if (failure !== null) {
      await early?.catch(() => undefined);
      return failureResponse(provider, failure);
    }
    return early ?? answer();
  }

  async function route(req: Request): Promise<Response> {
    const { pathname } = new URL(req.url);
    const post = req.method === "POST";

    if (post && pathname === "/plant-id/v3/identification") {
      return throughControl("plant-id", req, () =>
        answerPlantId(req, "identification", {
          catalogue: options.catalogue,
          apiKey: plantIdKey,
          notAPlant: control.isNoMatch("plant-id"),
        }),
      );
    }
    if (post && pathname === "/plant-id/v3/health_assessment") {
      return throughControl("plant-id-health", req, () =>
        answerPlantId(req, "health_assessment", {
          catalogue: options.catalogue,
          apiKey: plantIdKey,
          notAPlant: control.isNoMatch("plant-id-health"),
        }),
      );
    }
    const plantnetProject = /^\/plantnet\/v2\/identify\/([^/]+)$/.exec(pathname)?.[1];
    if (post && plantnetProject !== undefined) {
      return throughControl("plantnet", req, () =>
        answerPlantNet(req, decodeURIComponent(plantnetProject), {
          catalogue: options.catalogue,
          apiKey: plantnetKey,
          notAPlant: control.isNoMatch("plantnet"),
          quota,
        }),
      );
    }

    if (post && pathname === "/__sim/control") {
      const parsed = ControlCommand.safeParse(await req.json().catch(() => undefined));
      if (!parsed.success) return Response.json({ error: parsed.error.issues }, { status: 400 });
      control.apply(parsed.data);
      return Response.json({ ok: true });
    }
    if (post && pathname === "/__sim/reset") {
      control.reset();
      return Response.json({ ok: true });
    }
    if (req.method === "GET" && pathname === "/__sim/calls") return Response.json(control.allCalls());
    return Response.json({ error: `no route for ${req.method} ${pathname}` }, { status: 404 });
  }

  const server = Bun.serve({ port: options.port ?? 0, hostname, fetch: route, tls: options.tls });
  const url = `${options.tls ? "https" : "http"}://${hostname}:${server.port}`;

  return {
    url,
    plantIdBaseUrl: `${url}/plant-id/v3`,
    plantnetBaseUrl: `${url}/plantnet/v2`,
    control,
    async stop() {
      stopped = true;
      control.releaseHungRequests();
      await server.stop(true);
    },
  };
}

function failureResponse(provider: SimProvider, status: number): Response {
  const headers: Record<string, string> = status === 429 ? { "Retry-After": RETRY_AFTER_SECONDS } : {};
  if (provider === "plantnet") {
    const message = status === 429 ? "Too many requests: quota exceeded" : "Simulated failure";
    return plantnetError(status, message, headers);
  }
  const error =
    status === 429 ? "Not enough credits" : status === 401 ? "Invalid api key" : "Simulated failure";
  const res = plantIdError(status, error);
  for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
  return res;
}
