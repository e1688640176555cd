import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Workshop from "./Workshop.svelte";
import { i18n } from "../../lib/locale.svelte";
import type { RepairRecord, WorkshopJob } from "../../lib/api";

const repair = {
  id: "r1", work_order_id: "wo-2", asset_id: null, fault: "board burnt", cause: "lightning", action: "taken to the workshop", parts: [],
  labour_minutes: 30, category: "A", fee_cents: 0, fee_collected: false, taken_to_workshop: true, receipt_number: "SJ-42", recorded_at: "2026-03-02T05:00:00Z",
} as RepairRecord;
const job: WorkshopJob = {
  id: "j1", work_order_id: "wo-2", repair_record_id: "r1", stage: "goods_out", receipt_number: "SJ-42", unit: "GST200 panel", serial: "GST-1",
  condition: "board burnt", accessories: null, received_at: "2026-03-02T05:00:00Z", received_by: "li.wei", receipt_signer: "Mr Wang",
  goods_in_at: "2026-03-02T07:00:00Z", goods_in_by: "office.wang", repair_minutes: 95, repair_parts: [], repair_done: "new board", repaired_by: "Chen",
  repaired_at: "2026-03-02T08:00:00Z", check_result: "passed", check_note: null, checked_by: "office.wang", checked_at: "2026-03-02T09:00:00Z",
  goods_out_at: "2026-03-02T10:00:00Z", goods_out_by: "office.wang", returned_at: null, return_signer: null, receipt_voided_at: null,
};

describe("the workshop panel under a repair", () => {
  let calls: { cmd: string; args: Record<string, unknown> }[];
  afterEach(() => clearMocks());
  beforeEach(() => {
    i18n.locale = "en";
    calls = [];
  });

  it("offers the receipt form when the unit has none and sends it as the core takes it", async () => {
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "workshop_jobs") return [];
      if (cmd === "workshop_receipt") throw { kind: "invalid", message: "1 field is invalid", problems: [{ record: "work order WO-1002", field: "condition", problem: "describe the unit's condition as received" }] };
      return null;
    });
    render(Workshop, { props: { order: "wo-2", repair } });
    await fireEvent.click(await screen.findByRole("button", { name: "Write the workshop receipt" }));
    expect((screen.getByLabelText("Receipt number") as HTMLInputElement).value).toBe("SJ-42");
    await fireEvent.input(screen.getByLabelText("Unit (make and model)"), { target: { value: "GST200 panel" } });
    await fireEvent.input(screen.getByLabelText("Customer handing it over"), { target: { value: "Mr Wang" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save the receipt" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "workshop_receipt")).toBe(true));
    const sent = calls.find((c) => c.cmd === "workshop_receipt")!.args.receipt as Record<string, unknown>;
    expect(sent).toMatchObject({ repair_record_id: "r1", receipt_number: "SJ-42", unit: "GST200 panel", signer_name: "Mr Wang", condition: "" });
    expect(await screen.findByText("describe the unit's condition as received")).toBeTruthy();
  });

  it("shows the workshop's steps and, once booked out, the return the customer signs for", async () => {
    mockIPC((cmd) => (cmd === "workshop_jobs" ? [job] : null));
    render(Workshop, { props: { order: "wo-2", repair } });
    expect(await screen.findByText(/Booked in .* by office.wang/)).toBeTruthy();
    expect(screen.getByText(/Repair card .* by Chen: 95 min, new board/)).toBeTruthy();
    expect(screen.getByText(/Check passed/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Record the return (voids the receipt)" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Write the workshop receipt" })).toBeNull();
  });

  it("says what the workshop does next while the unit is there", async () => {
    mockIPC((cmd) => (cmd === "workshop_jobs" ? [{ ...job, stage: "repaired", check_result: null, checked_at: null, goods_out_at: null }] : null));
    render(Workshop, { props: { order: "wo-2", repair } });
    expect(await screen.findByText("Next: the supervisor's check (after your next sync)")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Record the return (voids the receipt)" })).toBeNull();
  });
});
