/**
 * The explorer: search, browse province → city → district, a place's metrics, clusters,
 * programs and organizations, a metric with its quote and source, an indicator across
 * places and over time. Every view is a URL (`/?place=hefei`, `/?indicator=…&year=2023`),
 * so what a person sees can be shared. Typed on the generated OpenAPI types: a contract
 * change breaks this build.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../src/api";
import { json, whole } from "../src/pages";
import { barChart, dotMap, formatNumber, lineChart, valueMap, type Bar, type Point, type Spot, type ValuedSpot } from "./charts";
import "./style.css";

type Schemas = components["schemas"];
type Metric = Schemas["Metric"];
type Ranked = Schemas["RankingPage"]["data"][number];
type RankingMeta = Schemas["RankingPage"]["meta"];
type Program = Schemas["Program"];
type Qualifier = Schemas["Qualifier"];
type Child = Node | string | null | undefined | false;

const API = "/api/v1";
// Bars in a ranking: a place's page shows where it stands, an indicator's the leaders.
const PLACE_TOP = 20;
const INDICATOR_TOP = 40;
const QUALIFIERS: Qualifier[] = ["exact", "approximate", "more_than", "at_least", "less_than", "up_to"];
const CJK = /[\u3400-\u9fff]/;
const api = createClient<paths>({ baseUrl: location.origin });
// Focus moves to a view's heading after navigation inside the page, not on first load.
let navigated = false;

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}

const main = required(document.getElementById("main"), "#main");
const searchForm = required(document.getElementById("search"), "#search") as HTMLFormElement;
const searchBox = required(document.getElementById("q"), "#q") as HTMLInputElement;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

function href(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `/?${text}` : "/";
}

function link(text: string, params: Record<string, string | undefined>): HTMLAnchorElement {
  return h("a", { href: href(params) }, text);
}

function go(url: string): void {
  navigated = true;
  history.pushState(null, "", url);
  void render();
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

function list(items: Node[], empty: string): HTMLElement {
  if (items.length === 0) return h("p", { class: "empty" }, empty);
  return h("ul", { class: "items" }, ...items.map((item) => h("li", {}, item)));
}

function placeName(place: { name: string; name_local?: string | null }): string {
  return place.name_local ? `${place.name} ${place.name_local}` : place.name;
}

function period(metric: Metric): string {
  const p = metric.period;
  return p.label ?? (p.start && p.end ? `${p.start} – ${p.end}` : p.year !== null ? String(p.year) : "undated");
}

function valueText(metric: Metric): string {
  return `${formatNumber(metric.value)} ${metric.unit}`;
}

function show(title: string, ...children: Child[]): void {
  document.title = `${title} · Innovation Atlas`;
  const heading = h("h1", { tabindex: "-1" }, title);
  main.replaceChildren(heading, ...children.filter((c): c is Node | string => !!c));
  if (navigated) heading.focus();
}

function fail(detail: string): never {
  throw new Error(detail);
}

// Views ------------------------------------------------------------------------------

/** The files of the release served: the whole dataset as SQLite, Parquet and CSV, each with
 * its size, written once at load time (none before a load, or without a releases folder). */
async function downloads(): Promise<HTMLElement | null> {
  const releases = await api.GET("/api/v1/releases", { params: { query: { limit: 1 } } });
  const latest = releases.data === undefined ? undefined : whole(releases.data).data[0];
  if (!latest) return null;
  const files = await api.GET("/api/v1/releases/{release_version}/download", {
    params: { path: { release_version: latest.version } },
  });
  if (!files.data || files.data.files.length === 0) return null;
  const size = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`);
  return section(
    "The whole dataset",
    h("p", {}, `Release ${latest.version.slice(0, 12)}, as files: open the SQLite file in Datasette, the Parquet files in pandas or DuckDB; datapackage.json describes every field.`),
    list(files.data.files.map((f) => h("a", { href: f.url, download: f.name }, `${f.name} (${size(f.bytes)})`)), "No files."),
  );
}

async function home(): Promise<void> {
  const [provinces, indicators, files] = await Promise.all([
    api.GET("/api/v1/places", {
      params: { query: { level__in: "province,municipality,sar", limit: 100, sort: "name" } },
    }),
    api.GET("/api/v1/indicators", { params: { query: { limit: 200, sort: "name" } } }),
    downloads(),
  ]);
  if (provinces.error) fail(provinces.error.detail);
  if (indicators.error) fail(indicators.error.detail);
  show(
    "China's regional innovation, sourced",
    h("p", { class: "lead" }, "Search a place by its English or Chinese name, or browse from a province down to its cities and districts."),
    section(
      "Provinces and municipalities",
      list(whole(provinces.data).data.map((p) => link(placeName(p), { place: p.slug })), "No provinces loaded."),
    ),
    section(
      "Indicators",
      list(whole(indicators.data).data.map((i) => link(`${i.name} (${i.unit})`, { indicator: i.code })), "No indicators."),
    ),
    files,
  );
}

async function search(q: string): Promise<void> {
  const text = q.trim().slice(0, 100);
  const places = CJK.test(text)
    ? api.GET("/api/v1/places", { params: { query: { name_local__contains: text, limit: 50 } } })
    : api.GET("/api/v1/places", { params: { query: { name__contains: text, limit: 50 } } });
  const byName = { params: { query: { name__contains: text, limit: 50 } } };
  // Metrics by the words of the sentence that states them (`q=`, which needs some text).
  const [p, c, g, o, m] = await Promise.all([
    places,
    api.GET("/api/v1/clusters", byName),
    api.GET("/api/v1/programs", byName),
    api.GET("/api/v1/organizations", byName),
    text ? api.GET("/api/v1/metrics", { params: { query: { q: text, limit: 50 } } }) : null,
  ]);
  if (p.error) fail(p.error.detail);
  if (c.error) fail(c.error.detail);
  if (g.error) fail(g.error.detail);
  if (o.error) fail(o.error.detail);
  if (m?.error) fail(m.error.detail);
  const quotes = m ? whole(m.data).data : [];
  searchBox.value = text;
  show(
    `Results for “${text}”`,
    section(`Places (${whole(p.data).meta.returned})`, list(whole(p.data).data.map((x) => h("span", {}, link(placeName(x), { place: x.slug }), ` · ${x.level}${x.province && x.province.slug !== x.slug ? `, ${x.province.name}` : ""}`)), "No place matches.")),
    section(`Clusters (${whole(c.data).meta.returned})`, list(whole(c.data).data.map((x) => h("span", {}, x.name, " · ", link(x.place.name, { place: x.place.slug }))), "No cluster matches.")),
    section(`Programs (${whole(g.data).meta.returned})`, list(whole(g.data).data.map((x) => h("span", {}, x.name, ` · ${x.kind}, `, link(x.place.name, { place: x.place.slug }))), "No program matches.")),
    section(`Organizations (${whole(o.data).meta.returned})`, list(whole(o.data).data.map((x) => h("span", {}, x.name, ` · ${x.kind}`, x.place ? h("span", {}, ", ", link(x.place.name, { place: x.place.slug })) : null)), "No organization matches.")),
    section(`Metrics quoting it (${quotes.length})`, metricsTable(quotes, `Metrics whose source's sentence contains “${text}”`)),
  );
}

function metricsTable(metrics: Metric[], caption: string): HTMLElement {
  if (metrics.length === 0) return h("p", { class: "empty" }, "No metrics.");
  const head = h("tr", {}, ...["Indicator", "Subject", "Value", "Period", "Qualifier"].map((t) => h("th", { scope: "col" }, t)));
  const rows = metrics.map((m) =>
    h(
      "tr",
      {},
      h("td", {}, link(m.indicator.name, { metric: m.key })),
      h("td", {}, m.subject.kind === "place" ? link(m.subject.name, { place: m.subject.slug }) : `${m.subject.name} (${m.subject.kind})`),
      h("td", { class: "num" }, valueText(m)),
      h("td", {}, period(m)),
      h("td", {}, m.qualifier.replace("_", " ")),
    ),
  );
  return h("div", { class: "scroll" }, h("table", { class: "metrics" }, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, ...rows)));
}

function seriesPoints(metrics: Metric[]): Point[] {
  const points: Point[] = [];
  for (const m of metrics) {
    const x = m.period.year ?? (m.period.end ? Number(m.period.end.slice(0, 4)) : null);
    if (x !== null) points.push({ x, label: period(m), value: m.value });
  }
  return points.sort((a, b) => a.x - b.x);
}

/** Every place's value of the indicator in one year, ranked (China's national total left
 * out of the chart: it is the sum the places make up), with whether the ranks compare
 * like with like. */
async function ranking(code: string, year: number | undefined): Promise<{ entries: Ranked[]; meta: RankingMeta }> {
  const { data, error } = await api.GET("/api/v1/rankings", {
    params: { query: { indicator: code, year, limit: 500 } },
  });
  if (error) fail(error.detail);
  const answer = json(data);
  return { entries: answer.data.filter((entry) => entry.place.level !== "country"), meta: answer.meta };
}

/** Whether a ranking compares like with like, and the entries that differ from the group. */
function comparability(meta: RankingMeta, entries: Ranked[]): HTMLElement {
  // A group of one is said once, by the ranking; entries are listed when they differ from others.
  const unlike = entries.length > 1 ? entries.filter((e) => !e.comparable) : [];
  return h(
    "div",
    { class: "comparability", "data-comparable": String(meta.comparable) },
    h("p", {}, h("strong", {}, meta.comparable ? "Comparable: " : "Not comparable: "), meta.comparability),
    unlike.length
      ? h("ul", { class: "differs" }, ...unlike.map((e) => h("li", {}, `${e.place.name}: ${e.differs.join("; ")}`)))
      : null,
  );
}

/** Bars for the first `top` places and, when it ranks below them, the page's own place;
 * each labelled with its position among all of them. */
function rankBars(entries: Ranked[], top: number, own?: string): Bar[] {
  const bars = entries.map((e, i) => ({ label: `${i + 1}. ${e.place.name}`, value: e.value, own: e.place.slug === own }));
  const shown = bars.slice(0, top);
  const mine = bars.findIndex((bar) => bar.own);
  const extra = mine >= top ? bars[mine] : undefined;
  return extra ? [...shown, extra] : shown;
}

function shownOf(count: number, top: number): string {
  return count > top ? `the first ${top} of ${count} places` : `every place with a value (${count})`;
}

/** The ranked places at their coordinates, coloured by value (places of a level with more
 * than 500 divisions, the counties, are not mapped). */
async function rankMap(entries: Ranked[], title: string, unit: string): Promise<SVGSVGElement | null> {
  const levels = [...new Set(entries.map((e) => e.place.level))].filter((l) => l !== "county" && l !== "district");
  if (levels.length === 0 || entries.length < 2) return null;
  const { data, error } = await api.GET("/api/v1/places", {
    params: { query: { level__in: levels.join(","), limit: 500 } },
  });
  if (error) fail(error.detail);
  const where = new Map(whole(data).data.map((p) => [p.slug, p.coordinates]));
  const spots: ValuedSpot[] = entries.flatMap((e) => {
    const at = where.get(e.place.slug);
    return at ? [{ label: e.place.name, longitude: at.longitude, latitude: at.latitude, value: e.value }] : [];
  });
  return spots.length > 1 ? valueMap(title, spots, unit) : null;
}

async function seriesOf(code: string, slug: string): Promise<Point[]> {
  const { data, error } = await api.GET("/api/v1/series", {
    params: { query: { indicator: code, places: slug } },
  });
  if (error) fail(error.detail);
  return (json(data).data[0]?.points ?? []).map((p) => ({
    x: p.period.year ?? Number((p.period.end ?? "0").slice(0, 4)),
    label: p.period.label ?? String(p.period.year ?? ""),
    value: p.value,
  }));
}

/** The place's rank among the places of its level, saying when it compares nothing (a group
 * of one) or unlike values. */
async function standing(code: string, slug: string, level: string, year: number | undefined): Promise<HTMLElement | null> {
  const { data, error } = await api.GET("/api/v1/rankings", {
    params: { query: { indicator: code, place: slug, peers: `level:${level}`, year, limit: 1 } },
  });
  if (error) fail(error.detail);
  const own = json(data).meta.place;
  if (!own) return null;
  return h(
    "p",
    { class: "standing", "data-comparable": String(own.comparable) },
    `Among ${json(data).meta.peers.group}${year ? ` in ${year}` : ""}: rank ${own.rank} of ${json(data).meta.peers.size}`,
    own.comparable ? "." : h("span", { class: "differs" }, ` (not comparable: ${own.differs.join("; ")}).`),
  );
}

async function comparison(code: string, name: string, slug: string, level: string): Promise<HTMLElement> {
  const detail = await api.GET("/api/v1/indicators/{code}", { params: { path: { code } } });
  if (detail.error) fail(detail.error.detail);
  const { name: indicatorName, unit } = detail.data;
  const points = await seriesOf(code, slug);
  const latest = points.length ? points[points.length - 1]?.x : undefined;
  const peers = (await ranking(code, latest)).entries;
  const own = await standing(code, slug, level, latest);
  const charts = h(
    "div",
    { class: "charts" },
    h("figure", {}, lineChart(`${indicatorName} in ${name} over time`, points, unit), h("figcaption", {}, `${name} over time (${points.length} dated values).`)),
    peers.length
      ? h("figure", {}, barChart(`${indicatorName} across places${latest ? ` in ${latest}` : ""}`, rankBars(peers, PLACE_TOP, slug), unit), h("figcaption", {}, `${indicatorName}, ${unit}${latest ? `, ${latest}` : ""}: ${shownOf(peers.length, PLACE_TOP)}, ${name} highlighted.`))
      : null,
  );
  return h("div", {}, own, charts);
}

/** The indicators a place has values of, most values first (a facet of its metrics). */
async function indicatorsOf(slug: string): Promise<[string, string][]> {
  const { data, error } = await api.GET("/api/v1/places/{place_slug}/metrics", {
    params: { path: { place_slug: slug }, query: { facets: "indicator", limit: 1 } },
  });
  if (error) fail(error.detail);
  const values = whole(data).meta.facets?.counts["indicator"]?.values ?? [];
  return values.map((v) => [String(v.value), v.name ?? String(v.value)]);
}

async function place(slug: string, chart: string | null): Promise<void> {
  const detail = await api.GET("/api/v1/places/{slug}", { params: { path: { slug } } });
  if (detail.error) fail(detail.error.detail);
  const p = detail.data;
  const nested = { params: { path: { place_slug: p.slug }, query: { limit: 100 } } };
  const [inside, metrics, clusters, programs, organizations] = await Promise.all([
    api.GET("/api/v1/places", { params: { query: { parent: p.slug, limit: 500 } } }),
    api.GET("/api/v1/places/{place_slug}/metrics", nested),
    api.GET("/api/v1/places/{place_slug}/clusters", nested),
    api.GET("/api/v1/programs", { params: { query: { covers: p.slug, limit: 100 } } }),
    api.GET("/api/v1/places/{place_slug}/organizations", nested),
  ]);
  if (inside.error) fail(inside.error.detail);
  if (metrics.error) fail(metrics.error.detail);
  if (clusters.error) fail(clusters.error.detail);
  if (programs.error) fail(programs.error.detail);
  if (organizations.error) fail(organizations.error.detail);
  const spots: Spot[] = whole(inside.data).data.flatMap((c) =>
    c.coordinates ? [{ label: c.name, longitude: c.coordinates.longitude, latitude: c.coordinates.latitude }] : [],
  );
  const ms = whole(metrics.data).data;
  const codes = await indicatorsOf(p.slug);
  const preferred = codes.find(([code]) => code === chart) ?? codes.find(([code]) => code === "rd_expenditure") ?? codes[0];
  const chosen = preferred?.[0];
  const trail = h("nav", { "aria-label": "Breadcrumb", class: "trail" }, link("China", {}));
  for (const up of [p.province, p.parent]) {
    if (up && up.slug !== p.slug && !trail.textContent?.includes(up.name)) trail.append(" › ", link(up.name, { place: up.slug }));
  }
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Level"), h("dd", {}, p.level.replace("_", " ")),
    p.code ? h("dt", {}, "Division code") : null, p.code ? h("dd", {}, p.code) : null,
    p.coordinates ? h("dt", {}, "Coordinates") : null,
    p.coordinates ? h("dd", {}, `${p.coordinates.latitude.toFixed(3)}° N, ${p.coordinates.longitude.toFixed(3)}° E`) : null,
    h("dt", {}, "Metrics"), h("dd", {}, String(p.counts.metrics)),
  );
  const picker = h("select", { id: "chart-indicator", name: "chart" });
  for (const [code, name] of codes) {
    const option = h("option", { value: code }, name);
    option.selected = code === chosen;
    picker.append(option);
  }
  picker.addEventListener("change", () => go(href({ place: p.slug, chart: picker.value })));
  show(
    placeName(p),
    trail,
    facts,
    chosen
      ? section("Series and standing", h("label", { for: "chart-indicator" }, "Indicator "), picker, await comparison(chosen, p.name, p.slug, p.level))
      : null,
    spots.length > 1
      ? h("figure", {}, dotMap(`Places inside ${p.name}`, spots), h("figcaption", {}, `Where the ${spots.length} places inside ${p.name} lie.`))
      : null,
    p.children.length ? section(`Inside ${p.name} (${p.children.length})`, list(p.children.map((c) => h("span", {}, link(c.name, { place: c.slug }), ` · ${c.level.replace("_", " ")}`)), "")) : null,
    section(`Metrics (${ms.length}${ms.length < p.counts.metrics ? ` of ${p.counts.metrics}` : ""})`, metricsTable(ms, `Metrics stated for ${p.name} and places inside it`)),
    section(`Clusters (${whole(clusters.data).data.length})`, list(whole(clusters.data).data.map((c) => h("span", {}, c.name, ` · ${c.sector}, ${c.status}`)), "No clusters.")),
    section(`Programs (${whole(programs.data).data.length})`, list(whole(programs.data).data.map((g) => programItem(g, p.name)), "No programs.")),
    section(`Organizations (${whole(organizations.data).data.length})`, list(whole(organizations.data).data.map((o) => h("span", {}, o.name, ` · ${o.kind}`)), "No organizations.")),
  );
}

// How a program covers a place (`via` of /programs?covers=), in words.
const VIA: Record<string, string> = {
  place: "at this place",
  ancestor: "at a place it lies in",
  participant: "a participant",
  candidate: "a candidate",
};

function programItem(g: Program, placeName: string): HTMLElement {
  const how = (g.via ?? []).map((v) => VIA[v] ?? v);
  return h(
    "span",
    { class: "program" },
    g.name,
    ` · ${g.kind}${g.announced_on ? `, ${g.announced_on}` : ""}`,
    how.length ? h("span", { class: "via", "data-via": (g.via ?? []).join(" ") }, ` · covers ${placeName}: ${how.join(", ")}`) : null,
  );
}

async function metric(key: string): Promise<void> {
  const { data: m, error } = await api.GET("/api/v1/metrics/{key}", { params: { path: { key } } });
  if (error) fail(error.detail);
  const source = m.provenance.source;
  show(
    `${m.indicator.name}: ${m.subject.name}`,
    h("p", { class: "value" }, valueText(m), m.stated ? h("span", { class: "stated" }, ` (stated: “${m.stated}”)`) : null),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Period"), h("dd", { "data-field": "period" }, `${period(m)} (${m.period.precision})`),
      h("dt", {}, "Qualifier"), h("dd", { "data-field": "qualifier" }, m.qualifier.replace("_", " ")),
      h("dt", {}, "Subject"), h("dd", {}, m.subject.kind === "place" ? link(m.subject.name, { place: m.subject.slug }) : `${m.subject.name} (${m.subject.kind})`),
      m.place ? h("dt", {}, "Place") : null, m.place ? h("dd", {}, link(m.place.name, { place: m.place.slug })) : null,
      h("dt", {}, "Indicator"), h("dd", {}, link(m.indicator.name, { indicator: m.indicator.code })),
      m.derived ? h("dt", {}, "Derived by") : null, m.derived ? h("dd", {}, m.formula ?? "") : null,
      m.ambiguity ? h("dt", {}, "Ambiguity") : null, m.ambiguity ? h("dd", {}, m.ambiguity) : null,
      m.note ? h("dt", {}, "Note") : null, m.note ? h("dd", {}, m.note) : null,
    ),
    section(
      "Source",
      m.provenance.quote ? h("blockquote", { class: "quote" }, m.provenance.quote) : h("p", {}, "No quotation recorded."),
      h(
        "dl",
        { class: "facts source" },
        h("dt", {}, "Title"), h("dd", { "data-field": "title" }, source.title ?? "untitled"),
        h("dt", {}, "Publisher"), h("dd", { "data-field": "publisher" }, source.publisher ?? "unknown"),
        h("dt", {}, "Published"), h("dd", { "data-field": "published" }, source.published_on ?? "undated"),
        h("dt", {}, "Locator"), h("dd", { "data-field": "locator" }, m.provenance.locator ?? "none"),
      ),
      h("p", {}, h("a", { href: source.url }, "Source record (JSON)")),
    ),
  );
}

async function indicator(code: string, params: URLSearchParams): Promise<void> {
  const detail = await api.GET("/api/v1/indicators/{code}", { params: { path: { code } } });
  if (detail.error) fail(detail.error.detail);
  const qualifier = QUALIFIERS.find((q) => q === params.get("qualifier"));
  const yearText = params.get("year") ?? "";
  const year = /^\d{4}$/.test(yearText) ? Number(yearText) : undefined;
  const sort = params.get("sort") === "value" ? "value" : "-value";
  const { data, error } = await api.GET("/api/v1/metrics", {
    params: { query: { indicator: code, qualifier, year, sort, limit: 100 } },
  });
  if (error) fail(error.detail);
  const i = detail.data;
  const form = h("form", { class: "filters", "aria-label": "Filter metrics" });
  const qualifierSelect = h("select", { id: "f-qualifier", name: "qualifier" }, h("option", { value: "" }, "any"));
  for (const q of QUALIFIERS) {
    const option = h("option", { value: q }, q.replace("_", " "));
    option.selected = q === qualifier;
    qualifierSelect.append(option);
  }
  const yearInput = h("input", { id: "f-year", name: "year", type: "number", min: "1949", max: "2100", inputmode: "numeric", value: year ? String(year) : "" });
  const sortSelect = h("select", { id: "f-sort", name: "sort" }, h("option", { value: "-value" }, "largest first"), h("option", { value: "value" }, "smallest first"));
  sortSelect.value = sort;
  form.append(
    h("label", { for: "f-qualifier" }, "Qualifier"), qualifierSelect,
    h("label", { for: "f-year" }, "Year"), yearInput,
    h("label", { for: "f-sort" }, "Order"), sortSelect,
  );
  const apply = (): void =>
    go(href({ indicator: code, qualifier: qualifierSelect.value, year: yearInput.value, sort: sortSelect.value === "-value" ? undefined : sortSelect.value }));
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => { event.preventDefault(); apply(); });
  const ms = whole(data).data;
  const facets = await api.GET("/api/v1/metrics", {
    params: { query: { indicator: code, facets: "year", limit: 1 } },
  });
  if (facets.error) fail(facets.error.detail);
  const years = (whole(facets.data).meta.facets?.counts["year"]?.values ?? [])
    .map((v) => Number(v.value))
    .filter((y) => Number.isInteger(y) && y > 0)
    .sort((a, b) => b - a);
  const rankYear = year ?? years[0];
  const { entries: ranked, meta: rankedMeta } = await ranking(code, rankYear);
  const map = await rankMap(ranked, `${i.name} by place${rankYear ? ` in ${rankYear}` : ""}`, i.unit);
  const byPlace = new Map<string, Metric[]>();
  for (const m of ms) if (m.place) byPlace.set(m.place.slug, [...(byPlace.get(m.place.slug) ?? []), m]);
  const longest = [...byPlace.values()].sort((a, b) => seriesPoints(b).length - seriesPoints(a).length)[0];
  show(
    `${i.name}`,
    h("p", { class: "lead" }, i.description, ` Unit: ${i.unit}; category: ${i.category}.`),
    form,
    h("p", { class: "count", role: "status" }, `${ms.length} metric${ms.length === 1 ? "" : "s"}`),
    ranked.length ? section(
      `Ranking${rankYear ? ` in ${rankYear}` : ""} (${ranked.length} places)`,
      h("div", { class: "charts ranking" },
        h("figure", {}, barChart(`${i.name} by place${rankYear ? ` in ${rankYear}` : ""}`, rankBars(ranked, INDICATOR_TOP), i.unit), h("figcaption", {}, `${shownOf(ranked.length, INDICATOR_TOP)}${rankYear ? ` in ${rankYear}` : ""}, highest first (China's national total left out); the map shows them all.`)),
        map ? h("figure", {}, map, h("figcaption", {}, "Darker: higher; five bands of equal counts.")) : null,
      ),
      comparability(rankedMeta, ranked),
    ) : null,
    ms.length ? h("div", { class: "charts" },
      longest && longest[0]?.place ? h("figure", {}, lineChart(`${i.name} in ${longest[0].place.name} over time`, seriesPoints(longest), i.unit), h("figcaption", {}, `${longest[0].place.name} over time.`)) : null,
    ) : null,
    metricsTable(ms, `${i.name} metrics`),
  );
}

// Routing ------------------------------------------------------------------------------

async function render(): Promise<void> {
  const params = new URLSearchParams(location.search);
  main.setAttribute("aria-busy", "true");
  try {
    const q = params.get("q");
    const placeSlug = params.get("place");
    const metricKey = params.get("metric");
    const code = params.get("indicator");
    if (q) await search(q);
    else if (placeSlug) await place(placeSlug, params.get("chart"));
    else if (metricKey) await metric(metricKey);
    else if (code) await indicator(code, params);
    else await home();
  } catch (problem) {
    show("Not available", h("p", { role: "alert" }, problem instanceof Error ? problem.message : String(problem)), h("p", {}, link("Back to the start", {})));
  } finally {
    main.removeAttribute("aria-busy");
  }
}

document.addEventListener("click", (event) => {
  const anchor = (event.target as Element | null)?.closest("a");
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(anchor.href);
  if (url.origin !== location.origin || url.pathname !== "/") return;
  event.preventDefault();
  go(url.pathname + url.search);
});
searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = searchBox.value.trim();
  if (q) go(href({ q }));
});
window.addEventListener("popstate", () => {
  navigated = true;
  void render();
});
void render();
