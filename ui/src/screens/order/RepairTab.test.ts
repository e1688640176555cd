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
