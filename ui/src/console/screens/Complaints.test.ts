import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import Complaints from "./Complaints.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { ComplaintDetail, ComplaintSummary, Me } from "../lib/api";

const me: Me = { login: "office", display_name: "Service desk", role: "office" };
const overdue: ComplaintSummary = {
  id: "c1",
  number: "2611-001",
  source: "direct",
  customer_id: "cust-1",
  customer_name: "金桥国际商业广场",
  category: "timeliness",
  severity: "serious",
  foreign_customer: false,
  responsible: "office",
  status: "open",
  registered_at: "2026-11-21T08:00:00.000Z",
  first_report_due: "2026-11-24T08:00:00.000Z",
  first_reported_at: null,
  close_due: "2026-12-04T08:00:00.000Z",
  closed_at: null,
  reminder: true,
  overdue: ["first_report", "close"],
};
const fresh: ComplaintSummary = { ...overdue, id: "c2", number: "2612-001", severity: "normal", reminder: false, overdue: [] };
const { reminder: _r, ...rest } = overdue;
const detail: ComplaintDetail = {
  ...rest,
  source_id: null,
  work_order_ids: [],
  work_orders: [],
  technicians: ["li.wei"],
  description: "迟到",
  registered_by: "office",
  result: null,
  written_reply: null,
  informed_at: null,
  informed_how: null,
  steps: [{ id: "s1", at: "2026-11-21T08:00:00.000Z", by: "office", kind: "registered", note: "迟到" }],
};

describe("Complaints", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/complaints": { items: [overdue, fresh], more: false },
      "GET /console/api/complaints/statistics": { month: "2026-11", due_on: "2026-12-10", total: 0, closed: 0, open: 0, by_category: [], by_responsible: [], average_days_to_close: null, closed_in_time: 0, closed_in_time_share: null },
      "GET /console/api/users": [{ login: "office", display_name: "Service desk", role: "office", disabled: false, created_at: "" }],
      "GET /console/api/settings/complaints": { first_report_days: 3, close_days_domestic: 13, close_days_foreign: 17 },
      "GET /console/api/complaints/c1": detail,
      "POST /console/api/complaints/c1/steps": (s: Sent) => ({ ...detail, steps: [...detail.steps, { id: "s2", at: "2026-12-06T08:00:00.000Z", by: "office", kind: (s.body as { kind: string }).kind, note: "office" }] }),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("marks overdue complaints with the reminder and what is overdue", async () => {
    render(Complaints, { me });
    const rows = await screen.findAllByTestId("complaint-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByTestId("reminder").textContent).toBe("Overdue — remind (催办)");
    expect(rows[0].textContent).toContain("first report overdue · closing overdue");
    expect(within(rows[1]).queryByTestId("reminder")).toBeNull();
  });

  it("reminds (催办) from the detail, and will not close a serious complaint without the written reply", async () => {
    render(Complaints, { me, id: "c1" });
    await screen.findByTestId("complaint-log");
    expect(screen.getByText("Only an administrator (management) gives the written reply.")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Remind (催办)" }));
    await vi.waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    expect(sent.find((s) => s.method === "POST")?.body).toEqual({ kind: "reminder", note: "" });
    await screen.findByText("Recorded in the tracking log.");
    await fireEvent.input(screen.getByLabelText("Result"), { target: { value: "fixed" } });
    await fireEvent.click(screen.getByRole("button", { name: "Close the complaint" }));
    expect((await screen.findByRole("alert")).textContent).toContain("written reply");
    expect(sent.filter((s) => s.path.endsWith("/close"))).toHaveLength(0);
  });
});
