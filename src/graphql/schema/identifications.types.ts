/** The identification part of the schema: the type definitions (resolvers in identifications.ts). */
export const identificationTypeDefs = /* GraphQL */ `
  enum IdentificationStatus {
    QUEUED
    PROCESSING
    COMPLETED
    FAILED
  }

  "A stored copy of a photo (JPEG, metadata stripped) and its thumbnail."
  type IdentificationImage {
    url: String!
    thumbnailUrl: String!
    width: Int!
    height: Int!
  }

  type SimilarImage {
    url: String!
    urlSmall: String
    similarity: Float
    license: String
    citation: String
  }

  "A candidate species, best first; linked to our catalogue (and its care) when we know the name."
  type Suggestion {
    rank: Int!
    scientificName: String!
    commonNames: [String!]!
    probability: Float!
    family: String
    genus: String
    "plant_id and/or plantnet."
    sources: [String!]!
    species: Species
    similarImages: [SimilarImage!]!
  }

  type DiseaseTreatment {
    biological: [String!]!
    chemical: [String!]!
    prevention: [String!]!
  }

  type Disease {
    name: String!
    probability: Float!
    description: String
    treatment: DiseaseTreatment!
  }

  type HealthAssessment {
    isHealthy: Boolean!
    "Probability that the plant is healthy."
    probability: Float!
    diseases: [Disease!]!
  }

  type IdentificationFailure {
    code: String!
    message: String!
  }

  type Identification implements Node {
    id: ID!
    "The id used by the REST API (GET /v1/identifications/{id})."
    databaseId: ID!
    status: IdentificationStatus!
    createdAt: DateTime!
    images: [IdentificationImage!]!
    isPlant: Boolean
    confidence: Float
    "Best first, at most 10."
    suggestions: [Suggestion!]!
    "The best suggestion's catalogue species, when it has one."
    topSpecies: Species
    health: HealthAssessment
    modelVersion: String
    failure: IdentificationFailure
  }

  type IdentificationEdge {
    cursor: String!
    node: Identification!
  }

  type IdentificationConnection {
    edges: [IdentificationEdge!]!
    pageInfo: PageInfo!
  }

  enum Organ {
    LEAF
    FLOWER
    FRUIT
    BARK
    AUTO
  }

  input CreateIdentificationInput {
    "1 to 5 photos (JPEG, PNG or WebP), as files of a multipart request (or send uploadIds)."
    images: [Upload!]
    "Photos sent before with POST /v1/uploads, by their upload ids (instead of images)."
    uploadIds: [ID!]
    "One organ per image, or none."
    organs: [Organ!]
    latitude: Float
    longitude: Float
    includeHealth: Boolean = true
    "Stored and queued now, identified by a worker (follow it with identificationUpdated)."
    background: Boolean = false
    "A retry with the same key and request gets the first answer (as REST's Idempotency-Key)."
    idempotencyKey: String
  }

  type CreateIdentificationPayload {
    identification: Identification!
    "True when this answer is the stored one of an earlier request with the same idempotencyKey."
    replayed: Boolean!
  }

  type DeleteIdentificationPayload {
    deletedId: ID!
  }

  extend type Query {
    "The caller's identifications, newest first. Needs identifications:read."
    identifications(
      first: Int = 20
      after: String
      from: DateTime
      to: DateTime
      minConfidence: Float
      speciesId: ID
    ): IdentificationConnection
    "One of the caller's identifications; null when there is none. Needs identifications:read."
    identification(id: ID!): Identification
  }

  extend type Mutation {
    "Needs identifications:write."
    createIdentification(input: CreateIdentificationInput!): CreateIdentificationPayload!
    "Needs identifications:write."
    deleteIdentification(id: ID!): DeleteIdentificationPayload!
  }
`;
