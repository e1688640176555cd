import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Inspection from "./Inspection.svelte";
import { i18n } from "../../lib/locale.svelte";
import { detail } from "../../test/fixtures";

interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

/** The core's answer to record_answer: normalised value, or a refusal naming the field. */
function fakeCore(calls: Call[]) {
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    calls.push({ cmd, args: a });
    if (cmd === "record_answer") {
      if (a.item_key === "pump.pressure" && Number.isNaN(Number(a.value))) {
        throw {
          kind: "invalid",
          message: "1 field is invalid",
          problems: [{ record: "work order WO-1", field: "pump.pressure (asset PUMP-1)", problem: `reading is not a number: "${a.value}"` }],
        };
      }
      return typeof a.value === "string" && a.item_key !== "panel.fault" ? a.value.trim().toLowerCase() : a.value;
    }
    return null;
  });
}

const rows = () => [...document.querySelectorAll<HTMLElement>("[data-row]")];
const rowOf = (label: string) => screen.getByText(label).closest<HTMLElement>("[data-row]")!;

describe("Inspection", () => {
  let calls: Call[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
    fakeCore(calls);
  });
  afterEach(() => clearMocks());

  it("lays out sections per asset and hides conditional items until their condition holds", () => {
    render(Inspection, { props: { detail: detail(), onchanged: vi.fn() } });
    expect(screen.getByRole("heading", { name: "General" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Pumps — PUMP-1 1# pump" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Pumps — PUMP-2 2# pump" })).toBeTruthy();
    expect(screen.queryByText("Fault")).toBeNull();
    expect(screen.queryByText("Where it leaks")).toBeNull();
    expect(screen.getAllByText("Pressure")).toHaveLength(2);
    // General: panel, hazards, next visit; each pump: pressure, leak.
    expect(rows()).toHaveLength(3 + 2 * 2);
  });

  it("names the contract phase of a planned inspection, and nothing for another order", () => {
    const d = detail();
    render(Inspection, { props: { detail: { ...d, order: { ...d.order, plan_id: "p1", phase: "late" } }, onchanged: vi.fn() } });
    expect(screen.getByTestId("inspection-phase").textContent).toContain("contract phase: late");
  });

  it("shows no phase for an order not from a plan", () => {
    render(Inspection, { props: { detail: detail(), onchanged: vi.fn() } });
    expect(screen.queryByTestId("inspection-phase")).toBeNull();
  });

  it("P/F/N answer from the keyboard, save at once, and show the conditional item", async () => {
    const onchanged = vi.fn();
    render(Inspection, { props: { detail: detail(), onchanged } });
    const panel = rowOf("Panel");
    await fireEvent.keyDown(within(panel).getByRole("button", { name: /Fail/ }), { key: "f" });
    await waitFor(() => expect(calls.some((c) => c.cmd === "record_answer")).toBe(true));
    expect(calls[0].args).toEqual({ order_id: "wo-1", item_key: "panel", asset_id: "", value: "fail" });
    expect(await screen.findByText("Fault")).toBeTruthy();
    expect(within(panel).getByRole("button", { name: /Fail/ }).getAttribute("aria-pressed")).toBe("true");
    expect(within(panel).getByText(/Saved/)).toBeTruthy();
    expect(onchanged).toHaveBeenCalled();

    // Enter moves to the next item: the newly shown text input takes the focus.
    await fireEvent.keyDown(document.activeElement!, { key: "Enter" });
    await waitFor(() => expect(document.activeElement?.id).toBe(rowOf("Fault").querySelector("input")!.id));
    // ↑ goes back to the panel's buttons.
    await fireEvent.keyDown(document.activeElement!, { key: "ArrowUp" });
    await waitFor(() => expect(panel.contains(document.activeElement)).toBe(true));
    // N on the second pump's leak item, per asset.
    const leak2 = rows().filter((r) => r.textContent?.includes("No leak"))[1];
    await fireEvent.keyDown(within(leak2).getAllByRole("button")[0], { key: "N" });
    await waitFor(() =>
      expect(calls.at(-1)!.args).toEqual({ order_id: "wo-1", item_key: "pump.leak", asset_id: "a-p2", value: "na" }),
    );
  });

  it("checks readings against their limits as typed and shows a refused value inline", async () => {
    render(Inspection, { props: { detail: detail(), onchanged: vi.fn() } });
    const row = rows().find((r) => r.textContent?.includes("Pressure"))!;
    const input = within(row).getByRole("textbox") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "0.1" } });
    expect(within(row).getByText("Below the minimum 0.2 MPa: a finding")).toBeTruthy();
    expect(input.classList).toContain("out");
    await fireEvent.input(input, { target: { value: "1.5" } });
    expect(within(row).getByText("Above the maximum 1.2 MPa: a finding")).toBeTruthy();
    await fireEvent.input(input, { target: { value: "0.5" } });
    expect(within(row).getByText("Limits 0.2–1.2 MPa")).toBeTruthy();
    expect(calls).toHaveLength(0); // typing alone saves nothing

    await fireEvent.input(input, { target: { value: "abc" } });
    expect(within(row).getByText(/Not a number/)).toBeTruthy();
    expect(input.getAttribute("aria-invalid")).toBe("true");
    // The core is still asked (it is the authority) and its refusal is shown; the text stays.
    await fireEvent.change(input);
    expect(await within(row).findByText(/Not saved/)).toBeTruthy();
    expect(input.value).toBe("abc");

    await fireEvent.input(input, { target: { value: "0.45" } });
    await fireEvent.change(input);
    await waitFor(() => expect(within(row).getByText(/Saved/)).toBeTruthy());
    expect(calls.at(-1)!.args).toMatchObject({ item_key: "pump.pressure", asset_id: "a-p1", value: "0.45" });
  });

  it("toggles choices with digits and marks the items the core lists as missing", async () => {
    const d = detail({
      missing: [{ record: "work order WO-1", field: "pump.pressure (asset PUMP-2)", problem: "required: Pumps — Pressure" }],
    });
    render(Inspection, { props: { detail: d, onchanged: vi.fn() } });
    expect(screen.getByText("1 required items not answered yet")).toBeTruthy();
    const open = rows().filter((r) => r.classList.contains("missing"));
    expect(open).toHaveLength(1);
    expect(open[0].closest("section")!.querySelector("h4")!.textContent).toContain("PUMP-2");

    const hazards = rowOf("Hazards");
    await fireEvent.keyDown(within(hazards).getAllByRole("button")[0], { key: "3" });
    await waitFor(() => expect(calls.at(-1)!.args).toMatchObject({ item_key: "hazards", value: ["wiring"] }));
    expect(await screen.findByText("Hazard detail")).toBeTruthy();
  });

  it("disables every control of a signed (locked) order", () => {
    const d = detail();
    d.order.status = "signed";
    render(Inspection, { props: { detail: d, onchanged: vi.fn() } });
    for (const b of within(rowOf("Panel")).getAllByRole("button")) expect((b as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByRole("button", { name: "Complete work order" })).toBeNull();
  });
});
