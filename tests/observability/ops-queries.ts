/** The PromQL shipped in ops/ (dashboard panels and alert rules) and the metric names it uses. */
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const ALERTS_FILE = join(ROOT, "ops/prometheus/alerts.yml");
export const DASHBOARD_FILE = join(ROOT, "ops/grafana/plant-community.json");
export const SCRAPE_CONFIG_FILE = join(ROOT, "ops/prometheus/prometheus.yml");

export type ShippedQuery = { where: string; expr: string };

type Panel = { title?: string; targets?: { expr?: string }[]; panels?: Panel[] };

export async function dashboardQueries(): Promise<ShippedQuery[]> {
  const dashboard = (await Bun.file(DASHBOARD_FILE).json()) as { panels: Panel[] };
  const out: ShippedQuery[] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) out.push({ where: `dashboard panel "${panel.title}"`, expr: target.expr });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  return out;
}

export async function alertQueries(): Promise<ShippedQuery[]> {
  const rules = Bun.YAML.parse(await Bun.file(ALERTS_FILE).text()) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `alert ${r.alert ?? r.record}`, expr: r.expr })),
  );
}

/** Grafana's interval variables, replaced so Prometheus itself can parse the dashboard's queries. */
export function forPrometheus(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("$__interval", "1m")
    .replaceAll("$__range", "1h");
}

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"]);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or durations. */
export function metricNames(expr: string): string[] {
  const e = forPrometheus(expr)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of e.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = e.slice((m.index ?? 0) + m[0].length).trimStart();
    if (rest.startsWith("(") || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** `# TYPE` lines of an exposition: family name -> type. */
export function metricFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/** Series Prometheus writes itself for every target (ScrapeTargetDown reads `up`): never in our output. */
export const PROMETHEUS_OWN_SERIES = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);

/**
 * Whether a name used in PromQL is there to query: a family itself, a histogram's _bucket/_sum/_count series,
 * or a series Prometheus records for each scrape.
 */
export function isExported(name: string, families: Map<string, string>): boolean {
  if (families.has(name) || PROMETHEUS_OWN_SERIES.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = families.get(m[1]!);
  return type === "histogram" || (type === "summary" && m[2] !== "bucket");
}
