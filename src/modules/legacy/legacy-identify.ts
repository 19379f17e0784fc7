import type { Context } from "hono";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../../http/context.ts";
import { ERROR_CODES, errorHeaders, httpStatus } from "../../http/errors.ts";
import { requireScopes } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { Identification } from "../identifications/identifications.schemas.ts";
import type { IdentificationsService } from "../identifications/identifications.service.ts";
import type { Species } from "../species/species.schemas.ts";
import type { SpeciesService } from "../species/species.service.ts";

type CareInstructions = Species["careInstructions"];

/** The old answer (plant_identification app): one photo in, the best match and its care out. */
export function toLegacyIdentification(i: Identification, care: CareInstructions | null) {
  const [top] = i.suggestions;
  if (!top || i.isPlant === false)
    return { success: false as const, error: "No plant was recognised in the photo." };
  const name = (s: { commonNames: string[]; scientificName: string }) => s.commonNames[0] ?? s.scientificName;
  return {
    success: true as const,
    plant_name: name(top),
    scientific_name: top.scientificName,
    confidence: top.probability,
    suggestions: i.suggestions.map((s) => ({
      plant_name: name(s),
      scientific_name: s.scientificName,
      probability: s.probability,
      common_names: s.commonNames,
      source: s.sources.length > 1 ? "combined" : (s.sources[0] ?? "combined"),
    })),
    care_instructions: care,
    disease_detection: i.health
      ? {
          is_healthy: i.health.isHealthy,
          probability: i.health.probability,
          diseases: i.health.diseases.map((d) => ({
            name: d.name,
            probability: d.probability,
            description: d.description,
            treatment: d.treatment,
          })),
        }
      : null,
    summary: `${name(top)} (${top.scientificName}), ${Math.round(top.probability * 100)}% confidence.`,
  };
}

const requireIdentify = requireScopes(["identifications:write"]);

export function legacyIdentifyHandler(identifications: IdentificationsService, species: SpeciesService) {
  async function careOf(speciesId: string | undefined, clientKey: string): Promise<CareInstructions | null> {
    if (!speciesId) return null;
    const json = await species.getSpeciesJson(speciesId, clientKey).catch(() => undefined);
    return json ? (JSON.parse(json) as Species).careInstructions : null;
  }

  async function identify(c: Context<AppEnv>) {
    await requireIdentify(c, async () => {});
    const form = await c.req.raw.formData().catch(() => {
      throw new AppError("malformed_body", "Send the photo as multipart/form-data.");
    });
    const image = form.get("image");
    if (!(image instanceof File)) {
      throw new AppError("validation_failed", "Send one photo in the `image` field.", {
        errors: [{ path: "form.image", message: "must be a file" }],
      });
    }
    // The service validates the photo as for /v1 (type by content, size, pixels); `image_url` is ignored.
    const photo = { bytes: await image.bytes(), contentType: image.type, filename: image.name || "photo" };
    const userId = c.var.auth!.userId;
    const { identification } = await identifications.create(
      { userId, actor: auditActor(c), clientKey: c.var.clientKey },
      { photos: [photo] },
    );
    const care = await careOf(identification.suggestions[0]?.speciesId, c.var.clientKey);
    return c.json(toLegacyIdentification(identification, care), 200);
  }

  /** Old apps read `{success: false, error}`; the status is the right one now (400 for a bad photo, not 500). */
  return async (c: Context<AppEnv>) => {
    try {
      return await identify(c);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // As in problem documents: a 5xx says what happened in our words, never an internal message.
      const title = ERROR_CODES[err.code].title;
      const status = httpStatus(err.code);
      const error = status >= 500 ? title : (err.detail ?? title);
      return c.json({ success: false, error }, status, errorHeaders(err));
    }
  };
}
