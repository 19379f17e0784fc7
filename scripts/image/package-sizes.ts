/**
 * What the modules in an image weigh, package by package (`du` inside the image, nested installs counted in
 * their parent): the measurement behind the image's size target (issue #11).
 *
 * CLI: `bun scripts/image/package-sizes.ts <tag> [top]` prints the total and the `top` largest packages.
 */
import { run } from "./containers.ts";

// Inside the image: every top-level package (scoped ones too) with its size in KiB, then the whole tree.
const SCRIPT = `cd /app/node_modules && for d in */ @*/*/; do d=\${d%/}; case $d in @*) [ -f "$d/package.json" ] || continue;; esac; echo "$(du -sk "$d" | cut -f1) $d"; done; echo "$(du -sk . | cut -f1) TOTAL"`;

export type PackageSizes = { totalBytes: number; packages: { name: string; bytes: number }[] };

export async function packageSizes(tag: string): Promise<PackageSizes> {
  const res = await run(["podman", "run", "--rm", "--network", "none", tag, "sh", "-c", SCRIPT]);
  const rows = res.stdout
    .trim()
    .split("\n")
    .map((line) => {
      const [kib, name] = line.trim().split(/\s+/);
      return { name: name ?? "", bytes: Number(kib) * 1024 };
    });
  const total = rows.find((r) => r.name === "TOTAL");
  return {
    totalBytes: total?.bytes ?? 0,
    packages: rows
      .filter((r) => r.name !== "TOTAL" && !r.name.startsWith("@*"))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

if (import.meta.main) {
  const tag = process.argv[2];
  if (!tag) throw new Error("usage: bun scripts/image/package-sizes.ts <tag> [top]");
  const top = Number(process.argv[3] ?? 25);
  const sizes = await packageSizes(tag);
  console.log(`node_modules in ${tag}: ${(sizes.totalBytes / 1048576).toFixed(1)} MiB`);
  for (const p of sizes.packages.slice(0, top))
    console.log(`${(p.bytes / 1048576).toFixed(1).padStart(7)} MiB  ${p.name}`);
}
