import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import Orders from "./Orders.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch } from "../test/fetch";
import type { OrderSummary } from "../lib/api";

const order = (n: number): OrderSummary => ({
  id: `wo-${n}`,
  number: `WO-${n}`,
  kind: "repair_call",
  status: "completed",
  review_state: "pending",
  technician: "li.wei",
  technician_name: "李伟 Li Wei",
  customer_id: "cu-1",
  customer_name: "金桥国际商业广场",
  site_id: "si-1",
  site_name: "B1 泵房",
  region: "浦东新区",
  zone: "urban",
  priority: "high",
  category: "A",
  problem: "漏水",
  reported_at: "2026-03-14T01:00:00Z",
  response_deadline: "2026-03-14T07:00:00Z",
  arrived_at: "2026-03-14T08:00:00Z",
  completed_at: null,
  response_met: n % 2 === 0,
});

describe("Orders", () => {
  beforeEach(() => {
    lang.locale = "en";
  });
  afterEach(() => vi.unstubAllGlobals());

  it("pages with the server's cursor and keeps the rows already shown", async () => {
    const sent = stubFetch({
      "GET /console/api/work-orders?status=completed&limit=50": { items: [order(1), order(2)], next: "c2" },
      "GET /console/api/work-orders?status=completed&limit=50&after=c2": { items: [order(3)], next: null },
      "GET /console/api/technicians": [],
      "GET /console/api/regions": ["浦东新区"],
    });
    render(Orders, { props: { params: new URLSearchParams("status=completed") } });
    expect(await screen.findByText("WO-2")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("2 shown");
    await fireEvent.click(screen.getByRole("button", { name: "More" }));
    expect(await screen.findByText("WO-3")).toBeTruthy();
    expect(screen.getByText("WO-1")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "More" })).toBeNull();
    expect(sent.map((s) => s.path)).toContain("/console/api/work-orders?status=completed&limit=50&after=c2");
    // Late responses stand out in words, not only colour.
    expect(screen.getAllByText("Late")).toHaveLength(2);
  });

  it("links the CSV of every row for the filters, without paging", async () => {
    stubFetch({
      "GET /console/api/work-orders": { items: [], next: null },
      "GET /console/api/technicians": [{ login: "li.wei", display_name: "李伟", open_orders: 2 }],
      "GET /console/api/regions": [],
    });
    render(Orders, { props: { params: new URLSearchParams("technician=li.wei&from=2026-03-01") } });
    expect(await screen.findByText("No work orders match these filters.")).toBeTruthy();
    const link = screen.getByRole("link", { name: "Download CSV" });
    expect(link.getAttribute("href")).toBe("/console/api/work-orders?technician=li.wei&from=2026-03-01&format=csv");
  });

  it("refuses a date range that runs backwards", async () => {
    const sent = stubFetch({ "GET /console/api/work-orders": { items: [], next: null }, "GET /console/api/technicians": [], "GET /console/api/regions": [] });
    render(Orders, { props: { params: new URLSearchParams("from=2026-03-10&to=2026-03-01") } });
    await screen.findByText("No work orders match these filters.");
    const before = sent.length;
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect((await screen.findByRole("alert")).textContent).toContain("The start date is after the end date");
    expect(sent.length).toBe(before);
  });
});
