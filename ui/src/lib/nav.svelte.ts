/** Where the technician is in the app: a screen, or an open work order on one of its tabs. */

export type Screen = "today" | "daily" | "van" | "settings";
export const SCREENS: readonly Screen[] = ["today", "daily", "van", "settings"];

export type OrderTab = "details" | "inspection" | "repair" | "signature" | "satisfaction" | "report";
export const ORDER_TABS: readonly OrderTab[] = ["details", "inspection", "repair", "signature", "satisfaction", "report"];

export type Route = { screen: Screen } | { screen: "order"; order: string; tab: OrderTab };

let route = $state<Route>({ screen: "today" });
/** The day the Today list shows, kept while an order is open. */
let day = $state<string | null>(null);

export const nav = {
  get route(): Route {
    return route;
  },
  get day(): string | null {
    return day;
  },
  set day(value: string | null) {
    day = value;
  },
  go(screen: Screen) {
    route = { screen };
  },
  /** Opens a work order (number or id). */
  openOrder(order: string, tab: OrderTab = "details") {
    route = { screen: "order", order, tab };
  },
  setTab(tab: OrderTab) {
    if (route.screen === "order") route = { ...route, tab };
  },
};
