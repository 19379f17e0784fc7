/**
 * Provider down: Plant.id (with its health assessment) and PlantNet answer 503 for a while.
 *
 *   bun run drill provider-down [outage seconds, default 20]
 */
import { providerDrill } from "./_provider-drill.ts";

export default async function drill(args: string[]) {
  await providerDrill({
    name: "provider-down",
    fault: (provider) => ({ action: "failWith", provider, status: 503 }),
    outageMs: Number(args[0] ?? 20) * 1000,
  });
}
