/**
 * Two small SVG charts drawn by hand (no library, nothing to download): a bar chart of
 * labelled values and a line chart of a series. Each is an image with a title and a
 * description a screen reader announces, and the values stay in the page's tables.
 */
const SVG = "http://www.w3.org/2000/svg";
let serial = 0;

export interface Bar {
  label: string;
  value: number;
  own?: boolean; // the bar of the place the page is about
}

export interface Point {
  x: number;
  label: string;
  value: number;
}

function element<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function frame(kind: string, title: string, description: string, height: number): SVGSVGElement {
  serial += 1;
  const svg = element("svg", {
    class: `chart ${kind}`,
    viewBox: `0 0 640 ${height}`,
    role: "img",
    "aria-labelledby": `chart-title-${serial} chart-desc-${serial}`,
  });
  svg.append(
    element("title", { id: `chart-title-${serial}` }, title),
    element("desc", { id: `chart-desc-${serial}` }, description),
  );
  return svg;
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 3 }).format(
    value,
  );
}

export function barChart(title: string, bars: Bar[], unit: string): SVGSVGElement {
  const row = 26;
  const height = bars.length * row + 10;
  const description = bars.map((b) => `${b.label}: ${formatNumber(b.value)} ${unit}`).join("; ");
  const svg = frame("bar-chart", title, description, height);
  const max = Math.max(...bars.map((b) => Math.abs(b.value)), 1);
  const left = 200;
  const width = 360;
  bars.forEach((bar, index) => {
    const y = 5 + index * row;
    const length = Math.max((Math.abs(bar.value) / max) * width, 1);
    svg.append(
      element("text", { x: left - 8, y: y + 17, "text-anchor": "end", class: "axis" }, bar.label),
      element("rect", { class: bar.own ? "bar own" : "bar", x: left, y: y + 3, width: length, height: row - 8 }),
      element("text", { x: left + length + 6, y: y + 17, class: "bar-value" }, formatNumber(bar.value)),
    );
  });
  return svg;
}

export function lineChart(title: string, points: Point[], unit: string): SVGSVGElement {
  const height = 220;
  const description = points.map((p) => `${p.label}: ${formatNumber(p.value)} ${unit}`).join("; ");
  const svg = frame("line-chart", title, description, height);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.value);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys, 1)];
  const left = 70;
  const right = 610;
  const top = 20;
  const bottom = 180;
  const sx = (x: number): number =>
    x1 === x0 ? (left + right) / 2 : left + ((x - x0) / (x1 - x0)) * (right - left);
  const sy = (y: number): number => bottom - ((y - y0) / (y1 - y0 || 1)) * (bottom - top);
  svg.append(
    element("line", { class: "axis-line", x1: left, y1: bottom, x2: right, y2: bottom }),
    element("line", { class: "axis-line", x1: left, y1: top, x2: left, y2: bottom }),
    element("text", { x: left - 6, y: top + 4, "text-anchor": "end", class: "axis" }, formatNumber(y1)),
    element("text", { x: left - 6, y: bottom, "text-anchor": "end", class: "axis" }, formatNumber(y0)),
  );
  if (points.length > 1) {
    const path = points.map((p, i) => `${i ? "L" : "M"}${sx(p.x)},${sy(p.value)}`).join(" ");
    svg.append(element("path", { class: "line", d: path }));
  }
  for (const p of points) {
    const dot = element("circle", { class: "point", cx: sx(p.x), cy: sy(p.value), r: 5 });
    dot.append(element("title", {}, `${p.label}: ${formatNumber(p.value)} ${unit}`));
    svg.append(
      dot,
      element("text", { x: sx(p.x), y: bottom + 20, "text-anchor": "middle", class: "axis" }, p.label),
    );
  }
  return svg;
}

export interface Spot {
  label: string;
  longitude: number;
  latitude: number;
}

/** Places as dots at their coordinates (equirectangular, longitude scaled by the cosine of
 * the middle latitude so shapes are not stretched). */
export function dotMap(title: string, spots: Spot[]): SVGSVGElement {
  const width = 640;
  const height = 360;
  const pad = 20;
  const description = spots.map((s) => `${s.label} at ${s.latitude.toFixed(2)}° N, ${s.longitude.toFixed(2)}° E`).join("; ");
  const svg = frame("dot-map", title, description, height);
  const lats = spots.map((s) => s.latitude);
  const lons = spots.map((s) => s.longitude);
  const [lat0, lat1] = [Math.min(...lats), Math.max(...lats)];
  const [lon0, lon1] = [Math.min(...lons), Math.max(...lons)];
  const squeeze = Math.cos((((lat0 + lat1) / 2) * Math.PI) / 180);
  const spanX = Math.max((lon1 - lon0) * squeeze, 1e-6);
  const spanY = Math.max(lat1 - lat0, 1e-6);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const offsetX = (width - spanX * scale) / 2;
  const offsetY = (height - spanY * scale) / 2;
  svg.append(element("rect", { class: "map-ground", x: 0, y: 0, width, height }));
  for (const spot of spots) {
    const x = offsetX + (spot.longitude - lon0) * squeeze * scale;
    const y = height - offsetY - (spot.latitude - lat0) * scale;
    const dot = element("circle", { class: "spot", cx: x.toFixed(1), cy: y.toFixed(1), r: 5 });
    dot.append(element("title", {}, spot.label));
    svg.append(dot, element("text", { x: (x + 7).toFixed(1), y: (y + 4).toFixed(1), class: "map-label" }, spot.label));
  }
  return svg;
}

export interface ValuedSpot extends Spot {
  value: number;
}

const BINS = 5;

/** Quantile bins of the values, lowest first: the upper bound of each bin. */
export function quantileBounds(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const last = sorted.length - 1;
  return Array.from({ length: BINS }, (_, i) => sorted[Math.round(((i + 1) / BINS) * last)] ?? 0);
}

function binOf(value: number, bounds: number[]): number {
  const index = bounds.findIndex((bound) => value <= bound);
  return index === -1 ? BINS - 1 : index;
}

/** Places as dots coloured by their value in five quantile bins (light: low, dark: high),
 * with a legend; each dot's title and the description give the exact value. */
export function valueMap(title: string, spots: ValuedSpot[], unit: string): SVGSVGElement {
  const svg = dotMap(title, spots);
  const bounds = quantileBounds(spots.map((s) => s.value));
  const dots = svg.querySelectorAll("circle.spot");
  spots.forEach((spot, index) => {
    const dot = dots[index];
    if (!dot) return;
    dot.setAttribute("class", `spot bin-${binOf(spot.value, bounds)}`);
    const label = dot.querySelector("title");
    if (label) label.textContent = `${spot.label}: ${formatNumber(spot.value)} ${unit}`;
  });
  const desc = svg.querySelector("desc");
  if (desc) desc.textContent = spots.map((s) => `${s.label}: ${formatNumber(s.value)} ${unit}`).join("; ");
  // The legend goes below the map, where no place can lie under it.
  svg.setAttribute("viewBox", "0 0 640 460");
  let lower = Math.min(...spots.map((s) => s.value));
  bounds.forEach((bound, i) => {
    const y = 370 + i * 18;
    svg.append(
      element("rect", { class: `legend bin-${i}`, x: 8, y, width: 14, height: 14 }),
      element("text", { x: 28, y: y + 11, class: "map-label" }, `${formatNumber(lower)}–${formatNumber(bound)}`),
    );
    lower = bound;
  });
  return svg;
}
