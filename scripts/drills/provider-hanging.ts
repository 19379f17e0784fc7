/**
 * Provider hanging: Plant.id (with its health assessment) and PlantNet accept requests and never answer.
 * Each call is cut off at its deadline until the breakers open; then requests are refused at once.
 *
 *   bun run drill provider-hanging [outage seconds, default 20]
 */
import { providerDrill } from "./_provider-drill.ts";

export default async function drill(args: string[]) {
  await providerDrill({
    name: "provider-hanging",
    fault: (provider) => ({ action: "hang", provider }),
    outageMs: Number(args[0] ?? 20) * 1000,
  });
}
