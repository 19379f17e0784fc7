/** The database ceiling: a bare Bun.serve + one postgres.js query of the same row, answering the same JSON. */
import postgres from "postgres";

const sql = postgres(process.env.DATABASE_URL!, { max: 10, prepare: true });
const id = process.env.BENCH_SPECIES_ID!;
Bun.serve({
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  async fetch() {
    const [row] =
      await sql`select id, scientific_name, common_names, family, genus, category, care, created_at, updated_at
      from species where id = ${id}`;
    if (!row) return new Response("not found", { status: 404 });
    return Response.json({
      id: row.id,
      scientificName: row.scientific_name,
      commonNames: row.common_names,
      family: row.family,
      genus: row.genus,
      category: row.category,
      careInstructions: row.care,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      links: { self: `/v1/species/${row.id}` },
    });
  },
});
