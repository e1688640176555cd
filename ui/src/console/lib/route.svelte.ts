/**
 * Hash routing: `#/orders/ID`, `#/reports?from=…`. The server serves one index.html at
 * /console/, so the hash keeps every screen bookmarkable without server routes.
 */

export type Screen = "calls" | "register" | "orders" | "order" | "review" | "return-visits" | "complaints" | "escalations" | "conflicts" | "reports" | "templates" | "people" | "calendar" | "plans" | "parts" | "daily-reports" | "renewals" | "customers" | "workshop";

export interface Route {
  screen: Screen;
  /** The order id for `order`, the template code for `templates`. */
  id: string | null;
  params: URLSearchParams;
}

const SCREENS: Screen[] = ["calls", "register", "orders", "review", "return-visits", "complaints", "escalations", "conflicts", "reports", "templates", "people", "calendar", "plans", "parts", "daily-reports", "renewals", "customers", "workshop"];

export function parseHash(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(search);
  if (parts[0] === "orders" && parts[1]) return { screen: "order", id: parts[1], params };
  const screen = SCREENS.find((s) => s === parts[0]) ?? "calls";
  return { screen, id: parts[1] ?? null, params };
}

export function href(screen: Screen, id?: string | null, params?: Record<string, string>): string {
  const base = screen === "order" ? `#/orders/${encodeURIComponent(id ?? "")}` : `#/${screen}${id ? `/${encodeURIComponent(id)}` : ""}`;
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "")).toString() : "";
  return q ? `${base}?${q}` : base;
}

let current = $state<Route>(parseHash(globalThis.location?.hash ?? ""));
globalThis.addEventListener?.("hashchange", () => {
  current = parseHash(location.hash);
});

export const route = {
  get current(): Route {
    return current;
  },
  go(to: string): void {
    if (location.hash === to) current = parseHash(to);
    else location.hash = to;
  },
};
