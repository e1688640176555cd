import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import CallRegister from "./CallRegister.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { CallDetail, CallEntry } from "../lib/api";

const entry = (n: number, over: Partial<CallEntry> = {}): CallEntry => ({
  id: `call-${n}`, number: `C-20260314-000${n}`, channel: "phone", call_type: "inquiry", caller_name: "赵女士", caller_phone: "139 0000 0001",
  customer_id: null, customer_code: null, customer_name: null, site_id: null, site_name: null, priority: "normal", problem: `问题 ${n}`,
  reported_at: "2026-03-14T02:00:00Z", taken_by: "office", work_order_id: null, work_order_status: null, complaint_id: null, return_visit_id: null, follows_order_id: null, closed_at: null,
  state: "open", ...over,
});
const detail = (e: CallEntry, over: Partial<CallDetail> = {}): CallDetail => ({ ...e, equipment_model: "IG541", asset_ids: [], answer: null, audit: [], ...over });

describe("CallRegister", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/call-register?limit=50": { items: [entry(2), entry(1, { call_type: "repair", state: "work_order", work_order_id: "wo-1", work_order_status: "new" })], next: "CUR" },
      "GET /console/api/call-register?limit=50&after=CUR": { items: [entry(0, { state: "closed", closed_at: "2026-03-13T02:00:00Z" })], next: null },
      "GET /console/api/call-register?call_type=inquiry&state=open&limit=50": { items: [entry(2)], next: null },
      "GET /console/api/call-register/call-2": detail(entry(2)),
      "PATCH /console/api/call-register/call-2": (s: Sent) =>
        detail(entry(2, { state: "closed", closed_at: "2026-03-14T03:00:00Z" }), { answer: (s.body as { answer: string }).answer, audit: [{ id: 1, at: "2026-03-14T03:00:00Z", actor: "office", action: "call_closed", target_entity: "calls", target_id: "call-2", detail: null }] }),
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("pages through the register and filters it", async () => {
    render(CallRegister);
    const rows = await screen.findAllByTestId("register-row");
    expect(rows).toHaveLength(2);
    // A repair request links to its work order.
    expect(within(rows[1]).getByRole("link", { name: "Work order" }).getAttribute("href")).toBe("#/orders/wo-1");
    await fireEvent.click(screen.getByRole("button", { name: "More" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("register-row")).toHaveLength(3));
    expect(screen.queryByRole("button", { name: "More" })).toBeNull();
    await fireEvent.change(screen.getByLabelText("Type of call"), { target: { value: "inquiry" } });
    await fireEvent.change(screen.getByLabelText("State"), { target: { value: "open" } });
    await fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("register-row")).toHaveLength(1));
    expect(sent.at(-1)!.path).toBe("/console/api/call-register?call_type=inquiry&state=open&limit=50");
  });

  it("answers and closes an inquiry from its details", async () => {
    render(CallRegister);
    const rows = await screen.findAllByTestId("register-row");
    await fireEvent.click(within(rows[0]).getByRole("button", { name: "Details of C-20260314-0002" }));
    const panel = await screen.findByTestId("call-detail");
    expect((within(panel).getByLabelText("Equipment model") as HTMLInputElement).value).toBe("IG541");
    await fireEvent.input(within(panel).getByLabelText("Equipment model"), { target: { value: "IG541-70" } });
    await fireEvent.input(within(panel).getByLabelText("Answer given"), { target: { value: "已寄报价" } });
    await fireEvent.click(within(panel).getByRole("button", { name: "Close the call" }));
    await vi.waitFor(() =>
      expect(sent.find((s) => s.method === "PATCH")?.body).toEqual({ answer: "已寄报价", equipment_model: "IG541-70", problem: "问题 2", closed: true }),
    );
    expect((await within(panel).findByRole("status")).textContent).toBe("C-20260314-0002 saved.");
    expect(within(panel).getByTestId("call-outcome").textContent).toContain("Closed");
    expect(within(panel).getByRole("button", { name: "Reopen" })).toBeTruthy();
    expect(within(screen.getAllByTestId("register-row")[0]).getByText("Closed")).toBeTruthy();
    expect(panel.textContent).toContain("Call closed");
  });
});
