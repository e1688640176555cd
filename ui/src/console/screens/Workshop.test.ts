import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import Workshop from "./Workshop.svelte";
import { lang } from "../lib/locale.svelte";
import { reply, stubFetch, type Sent } from "../test/fetch";
import type { WorkshopDetail, WorkshopItem, WorkshopJob } from "../lib/api";

const item: WorkshopItem = {
  id: "j1", work_order_id: "wo-2", number: "WO-1002", customer_name: "Harbour Tower", site_name: "Pump room", technician: "li.wei",
  technician_name: "李伟", receipt_number: "SJ-42", unit: "GST200 panel", stage: "in_workshop", received_at: "2026-03-02T05:00:00Z",
};
const job: WorkshopJob = {
  id: "j1", work_order_id: "wo-2", repair_record_id: "r1", stage: "in_workshop", receipt_number: "SJ-42", unit: "GST200 panel", serial: "GST-1",
  condition: "board burnt", accessories: null, received_at: "2026-03-02T05:00:00Z", received_by: "li.wei", receipt_signer: "Mr Wang",
  goods_in_at: "2026-03-02T07:00:00Z", goods_in_by: "office.wang", repair_minutes: null, repair_parts: [], repair_done: null, repaired_by: null,
  repaired_at: null, check_result: null, check_note: null, checked_by: null, checked_at: null, goods_out_at: null, goods_out_by: null,
  returned_at: null, return_signer: null, receipt_voided_at: null,
};
const detail: WorkshopDetail = { ...item, job, repair_fault: "panel dead", return_strokes: null, receipt_strokes: null, next_steps: ["repair_card"] };

describe("Workshop", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/workshop": { items: [item, { ...item, id: "j2", receipt_number: "SJ-43", stage: "passed" }], next: null, open: 2 },
      "GET /console/api/workshop/j1": detail,
      "POST /console/api/workshop/j1/steps": (s: Sent) => {
        const b = s.body as { minutes: number };
        return { ...detail, stage: "repaired", next_steps: ["check"], job: { ...job, stage: "repaired", repair_minutes: b.minutes, repair_done: "new board", repaired_at: "2026-03-02T09:00:00Z", repaired_by: "office.wang" } };
      },
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("lists the units not yet returned, with their stage", async () => {
    render(Workshop, { props: { id: null } });
    const rows = await screen.findAllByTestId("workshop-row");
    expect(rows.map((r) => r.getAttribute("data-stage"))).toEqual(["in_workshop", "passed"]);
    expect(rows[0].textContent).toContain("SJ-42");
    expect(rows[0].textContent).toContain("In the workshop");
    expect(screen.getByTestId("ws-open-count").textContent).toContain("2 in the loop");
    expect(sent[0].path).toContain("state=open");
  });

  it("offers only the next step's form, checks it, and shows the card once saved", async () => {
    render(Workshop, { props: { id: "j1" } });
    await screen.findByText("board burnt");
    expect(screen.queryByRole("button", { name: "Book in (goods-in)" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Passed" })).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Save the repair card" }));
    expect(screen.getAllByRole("alert").map((a) => a.textContent)).toEqual(["Give the repair time as whole minutes, 1 or more.", "Say what was done to the unit."]);
    expect(sent.filter((s) => s.method === "POST")).toHaveLength(0);
    await fireEvent.input(screen.getByLabelText("Actual repair time (minutes)"), { target: { value: "95" } });
    await fireEvent.input(screen.getByLabelText("What was done"), { target: { value: "new board" } });
    await fireEvent.input(screen.getByLabelText(/Parts, one per line/), { target: { value: "main board × 1" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save the repair card" }));
    await waitFor(() => expect(sent.filter((s) => s.method === "POST")).toHaveLength(1));
    expect(sent.find((s) => s.method === "POST")!.body).toEqual({ step: "repair_card", minutes: 95, done: "new board", parts: [{ name: "main board", quantity: 1 }] });
    expect((await screen.findByTestId("ws-stage")).getAttribute("data-stage")).toBe("repaired");
    expect(screen.getByRole("button", { name: "Passed" })).toBeTruthy();
  });

  it("shows the server's refusal of a step out of order", async () => {
    stubFetch({
      "GET /console/api/workshop/j1": { ...detail, next_steps: ["check"] },
      "POST /console/api/workshop/j1/steps": reply(409, { error: { kind: "conflict", message: "workshop receipt SJ-42: cannot record check: the check needs a repair card first" } }),
    });
    render(Workshop, { props: { id: "j1" } });
    await fireEvent.click(await screen.findByRole("button", { name: "Send back to the bench" }));
    expect(screen.getByRole("alert").textContent).toContain("Sending a unit back needs a note.");
    await fireEvent.click(screen.getByRole("button", { name: "Passed" }));
    expect(await screen.findByText(/needs a repair card first/)).toBeTruthy();
  });
});
