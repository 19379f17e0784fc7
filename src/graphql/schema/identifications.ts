import { AppError } from "../../core/app-error.ts";
import { encodeCursor } from "../../core/cursor.ts";
import type { IdentificationInput } from "../../modules/identifications/identifications.input.ts";
import type {
  Identification,
  Organ,
  Suggestion,
} from "../../modules/identifications/identifications.schemas.ts";
import type { Caller } from "../../modules/identifications/identifications.service.ts";
import type { IdentifyFromUploads } from "../../modules/uploads/uploads.schemas.ts";
import { type GraphQLContext, requireScope } from "../context.ts";
import { fromGlobalId, toGlobalId } from "../global-id.ts";
import { publishLiveEvent } from "../live-events.ts";
import { pageConnection, pageSize } from "./relay.ts";

export { identificationTypeDefs } from "./identifications.types.ts";

export function callerOf(
  ctx: GraphQLContext,
  scope: "identifications:read" | "identifications:write",
): Caller {
  const auth = requireScope(ctx, scope);
  return { userId: auth.userId, actor: ctx.actor, clientKey: ctx.clientKey };
}

function isoDate(value: string | null | undefined, name: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new AppError("validation_failed", `\`${name}\` must be an ISO 8601 date-time.`, {
      errors: [{ path: name, message: "must be an ISO 8601 date-time with offset" }],
    });
  }
  return value;
}

function absolute(origin: string, url: string): string {
  return url.startsWith("/") ? `${origin}${url}` : url;
}

type ListArgs = {
  first?: number | null;
  after?: string | null;
  from?: string | null;
  to?: string | null;
  minConfidence?: number | null;
  speciesId?: string | null;
};

type CreateInput = {
  images?: Promise<File>[] | File[] | null;
  uploadIds?: string[] | null;
  organs?: string[] | null;
  latitude?: number | null;
  longitude?: number | null;
  includeHealth?: boolean | null;
  background?: boolean | null;
  idempotencyKey?: string | null;
};

/**
 * The services' transport-free input: the multipart request's files, or the ids of photos uploaded before
 * (POST /v1/uploads), with the same fields.
 */
async function identificationInput(input: CreateInput): Promise<IdentificationInput | IdentifyFromUploads> {
  const images = input.images ?? [];
  const uploadIds = input.uploadIds ?? [];
  if (images.length > 0 === uploadIds.length > 0) {
    throw new AppError("validation_failed", "Send the photos as `images` or as `uploadIds` (one of them).", {
      errors: [{ path: "input.images", message: "send images or uploadIds, not both or neither" }],
    });
  }
  if (uploadIds.length > 0) {
    return {
      uploadIds,
      organs: (input.organs ?? []) as Organ[],
      latitude: input.latitude ?? undefined,
      longitude: input.longitude ?? undefined,
      includeHealth: input.includeHealth ?? true,
    };
  }
  const files = await Promise.all(images);
  return {
    photos: await Promise.all(
      files.map(async (file) => ({
        bytes: new Uint8Array(await file.arrayBuffer()),
        contentType: file.type || undefined,
        filename: file.name || undefined,
      })),
    ),
    organs: (input.organs ?? []) as Organ[],
    latitude: input.latitude ?? undefined,
    longitude: input.longitude ?? undefined,
    includeHealth: input.includeHealth ?? true,
  };
}

export const identificationResolvers = {
  IdentificationStatus: {
    QUEUED: "queued",
    PROCESSING: "processing",
    COMPLETED: "completed",
    FAILED: "failed",
  },
  Organ: { LEAF: "leaf", FLOWER: "flower", FRUIT: "fruit", BARK: "bark", AUTO: "auto" },
  Query: {
    identifications: async (_: unknown, args: ListArgs, ctx: GraphQLContext) => {
      const caller = callerOf(ctx, "identifications:read");
      const first = pageSize(args.first);
      const minConfidence = args.minConfidence ?? undefined;
      if (minConfidence !== undefined && (minConfidence < 0 || minConfidence > 1)) {
        throw new AppError("validation_failed", "`minConfidence` must be from 0 to 1.", {
          errors: [{ path: "minConfidence", message: "must be from 0 to 1" }],
        });
      }
      const page = await ctx.services.identifications.list(caller, {
        limit: first,
        cursor: args.after ?? undefined,
        from: isoDate(args.from, "from"),
        to: isoDate(args.to, "to"),
        minConfidence,
        speciesId: args.speciesId ? fromGlobalId("Species", args.speciesId, "speciesId") : undefined,
      });
      const cursorOf = (i: Identification) => encodeCursor({ c: i.createdAt, i: i.id });
      return pageConnection(page.data, page.nextCursor !== null, cursorOf, args.after);
    },
    identification: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
      const caller = callerOf(ctx, "identifications:read");
      try {
        return await ctx.services.identifications.get(caller, fromGlobalId("Identification", args.id));
      } catch (err) {
        if (err instanceof AppError && err.code === "not_found") return null;
        throw err;
      }
    },
  },
  Mutation: {
    createIdentification: async (_: unknown, { input }: { input: CreateInput }, ctx: GraphQLContext) => {
      const caller = callerOf(ctx, "identifications:write");
      const background = input.background
        ? { ...caller, role: ctx.auth!.role, traceparent: ctx.traceparent }
        : undefined;
      const { identification, replayed } = await ctx.services.identifications.create(
        caller,
        await identificationInput(input),
        { idempotencyKey: input.idempotencyKey ?? undefined, background },
      );
      return { identification, replayed };
    },
    deleteIdentification: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
      const caller = callerOf(ctx, "identifications:write");
      const id = fromGlobalId("Identification", args.id);
      await ctx.services.identifications.remove(caller, id);
      // Its subscribers' streams end (the identification is gone), on every instance.
      await publishLiveEvent(ctx.deps, {
        kind: "identification",
        userId: caller.userId,
        identificationId: id,
      });
      return { deletedId: toGlobalId("Identification", id) };
    },
  },
  Identification: {
    id: (i: Identification) => toGlobalId("Identification", i.id),
    databaseId: (i: Identification) => i.id,
    images: (i: Identification, _: unknown, ctx: GraphQLContext) =>
      i.images.map((img) => ({
        ...img,
        url: absolute(ctx.origin, img.url),
        thumbnailUrl: absolute(ctx.origin, img.thumbnailUrl),
      })),
    topSpecies: (i: Identification, _: unknown, ctx: GraphQLContext) => {
      const speciesId = i.suggestions[0]?.speciesId;
      return speciesId ? ctx.loaders.species.load(speciesId) : null;
    },
    health: (i: Identification) => i.health ?? null,
    failure: (i: Identification) => i.failure ?? null,
  },
  Suggestion: {
    species: (s: Suggestion, _: unknown, ctx: GraphQLContext) =>
      s.speciesId ? ctx.loaders.species.load(s.speciesId) : null,
  },
};
