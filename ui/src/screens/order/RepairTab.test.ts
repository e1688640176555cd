import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import RepairTab from "./RepairTab.svelte";
import { i18n } from "../../lib/locale.svelte";
import { detail } from "../../test/fixtures";
import type { Part } from "../../lib/api";

const catalogue: Part[] = [
  { id: "p1", sku: "SEAL-PUMP-45", name_zh: "水泵机械密封 45mm", name_en: "Pump mechanical seal 45 mm", unit: "套", price_cents: 36000 },
  { id: "p2", sku: "GAUGE-1.6", name_zh: "压力表 0–1.6 MPa", name_en: "Pressure gauge", unit: "只", price_cents: 4500 },
];

describe("RepairTab", () => {
  let sent: Record<string, unknown>[];
  beforeEach(() => {
    sent = [];
    i18n.locale = "en";
    mockIPC((cmd, args) => {
      if (cmd === "parts") return catalogue;
      if (cmd === "add_repair") {
        sent.push(args as Record<string, unknown>);
        throw {
          kind: "invalid",
          message: "some fields are invalid",
          problems: [
            { record: "work order WO-1", field: "fault", problem: "must not be empty" },
            { record: "work order WO-1", field: "part GAUGE-1.6", problem: "unknown part: not in the parts catalogue" },
            { record: "work order WO-1", field: "receipt_number", problem: "a unit taken back to the workshop needs the receipt number" },
          ],
        };
      }
      return null;
    });
  });
  afterEach(() => clearMocks());

  it("sends the record as the core takes it and shows each problem next to its field", async () => {
    render(RepairTab, { props: { detail: detail(), onchanged: vi.fn() } });
    await fireEvent.input(screen.getByLabelText("Cause"), { target: { value: "seal worn" } });
    await fireEvent.input(screen.getByLabelText("Action taken"), { target: { value: "replaced seal" } });
    await fireEvent.input(screen.getByLabelText("Labour (minutes)"), { target: { value: "95" } });
    await fireEvent.input(screen.getByLabelText("Fee (yuan)"), { target: { value: "560.5" } });
    await fireEvent.click(screen.getByLabelText("Fee collected on site"));
    await fireEvent.click(screen.getByLabelText("Taken to the workshop"));
    await fireEvent.click(screen.getByLabelText(/C free/));

    await fireEvent.click(screen.getByRole("button", { name: "+ Add part" }));
    const picker = screen.getByLabelText("Part");
    await fireEvent.focus(picker);
    await fireEvent.input(picker, { target: { value: "gauge" } });
    const options = within(await screen.findByRole("listbox")).getAllByRole("option");
    expect(options).toHaveLength(1);
    await fireEvent.keyDown(picker, { key: "Enter" });
    await fireEvent.input(screen.getByLabelText("Qty"), { target: { value: "2" } });
    await fireEvent.input(screen.getByLabelText("Serial numbers"), { target: { value: "G1, G2" } });

    await fireEvent.click(screen.getByRole("button", { name: "Save repair record" }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      order: "wo-1",
      repair: {
        asset_id: null,
        fault: "",
        cause: "seal worn",
        action: "replaced seal",
        parts: [{ sku: "GAUGE-1.6", quantity: 2, serials: ["G1", "G2"], faulty_returned: false }],
        labour_minutes: 95,
        category: "C",
        fee_cents: 56050,
        fee_collected: true,
        taken_to_workshop: true,
        receipt_number: null,
      },
    });

    const fault = screen.getByLabelText("Fault");
    expect(fault.getAttribute("aria-invalid")).toBe("true");
    expect(fault.parentElement!.textContent).toContain("must not be empty");
    expect(screen.getByLabelText("Receipt number").parentElement!.textContent).toContain("needs the receipt number");
    expect(screen.getByText("unknown part: not in the parts catalogue")).toBeTruthy();

    // Editing the field clears the core's earlier complaint about it.
    await fireEvent.input(fault, { target: { value: "leak" } });
    expect(fault.parentElement!.textContent).not.toContain("must not be empty");
  });

  it("refuses typed numbers that are not numbers before asking the core", async () => {
    render(RepairTab, { props: { detail: detail(), onchanged: vi.fn() } });
    await fireEvent.input(screen.getByLabelText("Labour (minutes)"), { target: { value: "1.5h" } });
    await fireEvent.input(screen.getByLabelText("Fee (yuan)"), { target: { value: "five" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save repair record" }));
    expect(await screen.findByText("Enter whole minutes, e.g. 95")).toBeTruthy();
    expect(screen.getByText(/Enter an amount in yuan/)).toBeTruthy();
    expect(sent).toHaveLength(0);
  });

  it("shows no form on a locked order", () => {
    const d = detail();
    d.order.status = "signed";
    render(RepairTab, { props: { detail: d, onchanged: vi.fn() } });
    expect(screen.queryByRole("button", { name: "Save repair record" })).toBeNull();
    expect(screen.getByText(/signed and locked/)).toBeTruthy();
  });
});

describe("RepairTab escalations", () => {
  let sent: Record<string, unknown>[];
  const repair = {
    id: "r1", work_order_id: "wo-1", asset_id: null, fault: "panel will not reset", cause: "unknown", action: "power-cycled", parts: [],
    labour_minutes: 20, category: "A" as const, fee_cents: 0, fee_collected: false, taken_to_workshop: false, receipt_number: null,
    recorded_at: "2026-03-02T03:00:00.000Z",
  };
  beforeEach(() => {
    sent = [];
    i18n.locale = "en";
    mockIPC((cmd, args) => {
      if (cmd === "parts") return catalogue;
      if (cmd === "escalate") {
        sent.push(args as Record<string, unknown>);
        if (!(args as { note: string }).note.trim()) {
          throw { kind: "invalid", message: "invalid", problems: [{ record: "work order WO-1", field: "note", problem: "say what you need help with" }] };
        }
        return { id: "e1" };
      }
      return null;
    });
  });
  afterEach(() => clearMocks());

  it("escalates a repair to whom the technician picks, with the note, and shows the core's problem", async () => {
    const onchanged = vi.fn();
    render(RepairTab, { props: { detail: detail({ repairs: [repair] }), onchanged } });
    await fireEvent.click(screen.getByRole("button", { name: /Escalate the repair recorded/ }));
    await fireEvent.click(screen.getByRole("button", { name: "Send escalation" }));
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(await screen.findByText("say what you need help with")).toBeTruthy();
    expect(onchanged).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByLabelText("Engineer"));
    await fireEvent.input(screen.getByLabelText("What do you need?"), { target: { value: "main board broken" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send escalation" }));
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]).toEqual({ order: "wo-1", repair: "r1", to: "engineer", note: "main board broken" });
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
    expect(screen.getByRole("status").textContent).toContain("after the next sync");
  });

  it("shows each escalation under its repair with the office's answer once pulled", () => {
    const base = { work_order_id: "wo-1", raised_at: "2026-03-02T03:10:00.000Z", raised_by: "li.wei", answered_by: null, answered_at: null, response: null };
    const escalations = [
      { ...base, id: "e1", repair_record_id: "r1", escalate_to: "engineer" as const, note: "main board", status: "resolved" as const,
        response: "engineer at 9 tomorrow", answered_by: "office.wang", answered_at: "2026-03-02T04:00:00.000Z" },
      { ...base, id: "e2", repair_record_id: "r1", escalate_to: "supervisor" as const, note: "customer upset", status: "open" as const },
    ];
    render(RepairTab, { props: { detail: detail({ repairs: [repair], escalations }), onchanged: vi.fn() } });
    const list = screen.getByTestId("escalations-r1");
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain("Resolved");
    expect(items[0].textContent).toContain("engineer at 9 tomorrow");
    expect(items[0].textContent).toContain("office.wang");
    expect(items[1].textContent).toContain("Waiting for the office");
    expect(items[1].textContent).toContain("Escalated to the Supervisor");
  });
});

describe("RepairTab default category", () => {
  let sent: Record<string, unknown>[];
  beforeEach(() => {
    sent = [];
    i18n.locale = "en";
    mockIPC((cmd, args) => {
      if (cmd === "parts") return catalogue;
      if (cmd === "default_category") {
        const asset = (args as { asset: string }).asset;
        return asset === "a-p1"
          ? { category: "B", reason: "under_contract", contract: "HT-2025-017", ends_on: "2026-03-31", explain: "保养合同 HT-2025-017 有效至 2026-03-31 / under contract HT-2025-017 until 2026-03-31" }
          : { category: "C", reason: "in_warranty", warranty_ends: "2026-06-14", explain: "保修期至 2026-06-14 / in warranty until 2026-06-14" };
      }
      if (cmd === "add_repair") {
        sent.push(args as Record<string, unknown>);
        return { id: "r1" };
      }
      return null;
    });
  });
  afterEach(() => clearMocks());

  it("preselects the equipment's default with the reason, follows the equipment, and keeps the technician's choice", async () => {
    render(RepairTab, { props: { detail: detail(), onchanged: vi.fn() } });
    const equipment = screen.getByLabelText("Equipment");
    await fireEvent.change(equipment, { target: { value: "a-p1" } });
    await waitFor(() => expect((screen.getByLabelText(/B contract/) as HTMLInputElement).checked).toBe(true));
    expect(screen.getByTestId("category-default").textContent).toContain("under contract HT-2025-017 until 2026-03-31");
    await fireEvent.change(equipment, { target: { value: "a-p2" } });
    await waitFor(() => expect((screen.getByLabelText(/C free/) as HTMLInputElement).checked).toBe(true));
    // The technician's own choice stays, with a word that the office will see the difference.
    await fireEvent.click(screen.getByLabelText(/A paid/));
    await fireEvent.change(equipment, { target: { value: "a-p1" } });
    await waitFor(() => expect(screen.getByTestId("category-default").textContent).toContain("HT-2025-017"));
    expect((screen.getByLabelText(/A paid/) as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId("category-default").textContent).toContain("the office will see the difference");
  });
});
