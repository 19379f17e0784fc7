import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import { listSpecies, type SpeciesRow } from "../../modules/species/species.repo.ts";
import type { GraphQLContext } from "../context.ts";
import { fromGlobalId, toGlobalId } from "../global-id.ts";
import { connectionOf, pageSize } from "./relay.ts";

export const speciesTypeDefs = /* GraphQL */ `
  "How to look after a species."
  type CareInstructions {
    watering: String!
    light: String!
    temperature: String!
    humidity: String!
    soil: String!
    fertilizing: String!
    toxicity: String!
  }

  "A species of our catalogue."
  type Species implements Node {
    id: ID!
    "The id used by the REST API (GET /v1/species/{id})."
    databaseId: ID!
    scientificName: String!
    commonNames: [String!]!
    family: String!
    genus: String!
    category: String!
    care: CareInstructions!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type SpeciesEdge {
    cursor: String!
    node: Species!
  }

  type SpeciesConnection {
    edges: [SpeciesEdge!]!
    pageInfo: PageInfo!
  }

  extend type Query {
    "A species by id (global id or REST id); null when there is none. Public."
    species(id: ID!): Species
    "The catalogue by scientific name; q searches names, family and genus filter (any case). Public."
    speciesList(first: Int = 20, after: String, q: String, family: String, genus: String): SpeciesConnection!
  }
`;

const CursorSchema = z.object({ s: z.string(), i: z.string().uuid() });

/** Taxon names are stored capitalised ("Araceae"); accept any case, as REST does. */
function taxonName(value: string | null | undefined) {
  return value ? value.charAt(0).toUpperCase() + value.slice(1).toLowerCase() : undefined;
}

function text(value: string | null | undefined, name: string, max = 100): string | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  if (value.length > max) {
    throw new AppError("validation_failed", `\`${name}\` is too long.`, {
      errors: [{ path: name, message: `at most ${max} characters` }],
    });
  }
  return value;
}

type ListArgs = {
  first?: number | null;
  after?: string | null;
  q?: string | null;
  family?: string | null;
  genus?: string | null;
};

export const speciesResolvers = {
  Query: {
    species: (_: unknown, args: { id: string }, ctx: GraphQLContext) =>
      ctx.loaders.species.load(fromGlobalId("Species", args.id)),
    speciesList: async (_: unknown, args: ListArgs, ctx: GraphQLContext) => {
      const first = pageSize(args.first);
      const after = args.after ? decodeCursor(args.after, CursorSchema) : undefined;
      const q = text(args.q, "q");
      const rows = await ctx.deps.db.read(ctx.clientKey, (db) =>
        listSpecies(db, {
          limit: first + 1,
          after: after && { scientificName: after.s, id: after.i },
          q,
          family: taxonName(text(args.family, "family")),
          genus: taxonName(text(args.genus, "genus")),
        }),
      );
      // Prime the loader: a suggestion naming a listed species needs no second read.
      for (const row of rows) ctx.loaders.species.prime(row.id, row);
      return connectionOf(rows, first, (r) => encodeCursor({ s: r.scientific_name, i: r.id }), args.after);
    },
  },
  Species: {
    id: (row: SpeciesRow) => toGlobalId("Species", row.id),
    databaseId: (row: SpeciesRow) => row.id,
    scientificName: (row: SpeciesRow) => row.scientific_name,
    commonNames: (row: SpeciesRow) => row.common_names,
    care: (row: SpeciesRow) => row.care,
    createdAt: (row: SpeciesRow) => row.created_at.toISOString(),
    updatedAt: (row: SpeciesRow) => row.updated_at.toISOString(),
  },
};
