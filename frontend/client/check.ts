/**
 * A frontend's first steps with the API, on types generated from the live OpenAPI
 * document: list, filter, walk every page, read a metric's provenance and a typed 422.
 * Prints one JSON summary; compiled under `tsc --strict` and run by tests/test_typed_client.py.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "../src/api.js";
import { subset, whole } from "../src/pages.js";

type Place = components["schemas"]["Place"];
type Problem = components["schemas"]["Problem"];

const baseUrl = process.argv[2];
if (!baseUrl) throw new Error("usage: node check.js BASE_URL");
const api = createClient<paths>({ baseUrl });

async function provincesByPage(): Promise<{ pages: number; names: string[] }> {
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { data, error } = await api.GET("/api/v1/places", {
      params: { query: { level: "province", limit: 10, sort: "name", cursor } },
    });
    if (error) throw new Error(`page ${pages}: ${error.detail}`);
    pages += 1;
    const page = whole(data);
    names.push(...page.data.map((place: Place) => place.name));
    cursor = page.meta.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return { pages, names };
}

async function main(): Promise<void> {
  const cities = await api.GET("/api/v1/cities", {
    params: { query: { province: "hubei", level: "county_city", count: true } },
  });
  if (cities.error) throw new Error(cities.error.detail);
  const cityPage = whole(cities.data);
  const daye = cityPage.data.find((city) => city.slug === "daye");

  const walk = await provincesByPage();

  const metrics = await api.GET("/api/v1/cities/{city_slug}/metrics", {
    params: { path: { city_slug: "daye" }, query: { sort: "-value" } },
  });
  if (metrics.error) throw new Error(metrics.error.detail);
  const first = whole(metrics.data).data[0];
  if (first === undefined) throw new Error("Daye has no metrics");
  const one = await api.GET("/api/v1/metrics/{key}", { params: { path: { key: first.key } } });
  if (one.error) throw new Error(one.error.detail);
  const { provenance, period, qualifier } = one.data;

  const keys = await api.GET("/api/v1/metrics", {
    params: { query: { fields: "key,value", limit: 3 } },
  });
  if (keys.error) throw new Error(keys.error.detail);
  const slim = subset(keys.data);

  const refused = await api.GET("/api/v1/metrics", { params: { query: { limit: 0 } } });
  const problem: Problem | undefined = refused.error;
  const invalid = problem?.errors?.[0];

  console.log(
    JSON.stringify({
      cities: { total: cityPage.meta.total, returned: cityPage.meta.returned },
      daye: daye ? { code: daye.code, level: daye.level, province: daye.province?.slug } : null,
      provinces: walk,
      metric: {
        key: one.data.key,
        value: one.data.value,
        qualifier,
        period: period.label,
        quote: provenance.quote,
        locator: provenance.locator,
        source: provenance.source.title,
      },
      subset: { fields: slim.meta.fields, items: slim.data.map((m) => Object.keys(m).sort()) },
      refusal: {
        status: refused.response.status,
        type: problem?.type,
        parameter: invalid?.parameter,
        in: invalid?.in,
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
