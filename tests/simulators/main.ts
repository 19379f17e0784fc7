// Standalone provider simulator for the dev stack and for tests that run the API as a separate process.
// Usage: PORT=4010 bun tests/simulators/main.ts   (PORT=0 picks a free port; the line printed names it)
// Reads the catalogue from src/db/seed/species.json so suggestions name species the database knows;
// SIM_CATALOGUE_PATH points elsewhere (the simulator's own test uses it).
import { join } from "node:path";
import { type CatalogueSpecies, startProviderSimulator } from "./provider-simulator.ts";

const cataloguePath =
  process.env.SIM_CATALOGUE_PATH ?? join(import.meta.dir, "../../src/db/seed/species.json");
const catalogueFile = Bun.file(cataloguePath);
if (!(await catalogueFile.exists())) {
  console.error(`provider simulator: catalogue not found at ${cataloguePath}`);
  process.exit(1);
}
const catalogue = ((await catalogueFile.json()) as CatalogueSpecies[]).map(
  ({ scientificName, commonNames, family, genus }) => ({ scientificName, commonNames, family, genus }),
);

const simulator = startProviderSimulator({
  port: Number(process.env.PORT ?? 4010),
  hostname: process.env.HOST ?? "127.0.0.1",
  catalogue,
  plantIdKey: process.env.SIM_PLANT_ID_KEY,
  plantnetKey: process.env.SIM_PLANTNET_KEY,
});
console.log(`provider simulator listening on ${simulator.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await simulator.stop();
    process.exit(0);
  });
}
