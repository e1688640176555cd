import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import Escalations from "./Escalations.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { EscalationItem, Me } from "../lib/api";

const open: EscalationItem = {
  id: "e2", work_order_id: "wo-2", number: "WO-1002", customer_name: "Harbour Tower", site_name: "Pump room", technician: "li.wei",
  technician_name: "李伟", repair_record_id: "r1", repair_fault: "panel will not reset", escalate_to: "engineer", note: "main board broken",
  raised_at: "2026-03-02T05:00:00Z", status: "open", response: null, answered_by: null, answered_at: null,
};
const acked: EscalationItem = { ...open, id: "e1", escalate_to: "supervisor", note: "customer upset", status: "acknowledged", answered_by: "office.wang",
  answered_at: "2026-03-02T06:00:00Z" };
const office: Me = { login: "office.wang", display_name: "王", role: "office" } as Me;

describe("Escalations", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/escalations": { items: [open, acked], next: null, open: 1 },
      "GET /console/api/repairs-overdue": {
        expected_hours: 4, next: null,
        items: [{ id: "wo-4", number: "WO-1004", technician: "zhang.min", technician_name: "张敏", customer_name: "Mall", site_name: null, priority: "normal",
          problem: "leak", arrived_at: "2026-03-02T01:00:00Z", expected_by: "2026-03-02T05:00:00Z", hours_over: 3, open_escalations: 0 }],
      },
      "POST /console/api/escalations/e2/answer": (s: Sent) => ({ ...open, ...(s.body as object) }),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("lists open escalations first with what the technician asked, and the overdue repairs", async () => {
    render(Escalations, { props: { me: office } });
    const cards = await screen.findAllByTestId("escalation");
    expect(cards.map((c) => c.getAttribute("data-status"))).toEqual(["open", "acknowledged"]);
    expect(cards[0].textContent).toContain("Engineer");
    expect(cards[0].textContent).toContain("main board broken");
    expect(cards[0].textContent).toContain("panel will not reset");
    expect(screen.getByTestId("esc-open-count").textContent).toContain("1 open");
    const overdue = screen.getByTestId("repairs-overdue");
    expect(within(overdue).getByText("WO-1004")).toBeTruthy();
    expect(screen.getByText(/more than 4 hours ago/)).toBeTruthy();
    expect(screen.queryByLabelText(/Expected hours on site/)).toBeNull();
  });

  it("needs a response to resolve, and sends it", async () => {
    render(Escalations, { props: { me: office } });
    const cards = await screen.findAllByTestId("escalation");
    await fireEvent.click(within(cards[0]).getByRole("button", { name: "Resolve with this response" }));
    expect(within(cards[0]).getByRole("alert").textContent).toContain("Type the response first");
    expect(sent.filter((s) => s.method === "POST")).toHaveLength(0);
    await fireEvent.input(within(cards[0]).getByLabelText("Response to the technician"), { target: { value: "engineer at 9 tomorrow" } });
    await fireEvent.click(within(cards[0]).getByRole("button", { name: "Resolve with this response" }));
    await waitFor(() => expect(sent.filter((s) => s.method === "POST")).toHaveLength(1));
    expect(sent.find((s) => s.method === "POST")!.body).toEqual({ status: "resolved", response: "engineer at 9 tomorrow" });
  });
});
