/**
 * A list answers either a page of whole items or, asked for `fields=`, a page of subsets
 * whose `meta.fields` names the fields. These narrow the union once per page, so the
 * items keep their required fields in the types.
 */
type AnyPage = { meta: object };
type Subset = { meta: { fields: string[] } };
export type WholePage<P> = Exclude<P, Subset>;
export type SubsetPage<P> = Extract<P, Subset>;

export function whole<P extends AnyPage>(page: P | string): WholePage<P> {
  // A list also answers CSV and NDJSON exports (text), which the explorer never asks for.
  if (typeof page === "string") throw new Error("expected a JSON page, got an export");
  if ("fields" in page.meta) throw new Error("expected whole items, got a `fields=` subset");
  return page as WholePage<P>;
}

export function subset<P extends AnyPage>(page: P | string): SubsetPage<P> {
  if (typeof page === "string") throw new Error("expected a JSON page, got an export");
  if (!("fields" in page.meta)) throw new Error("expected a `fields=` subset, got whole items");
  return page as SubsetPage<P>;
}

/** A computed answer (a series, a ranking), which also answers CSV and NDJSON (text) that
 * the explorer never asks for. */
export function json<A extends object>(answer: A | string): A {
  if (typeof answer === "string") throw new Error("expected JSON, got an export");
  return answer;
}
