import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import Calls from "./Calls.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { CallSummary } from "../lib/api";

const call = (n: number, carried: boolean): CallSummary => ({
  id: `wo-${n}`,
  number: `C-20260314-000${n}`,
  kind: "repair_call",
  status: "new",
  review_state: null,
  technician: null,
  technician_name: null,
  customer_id: "cu-1",
  customer_name: "金桥国际商业广场",
  site_id: "si-1",
  site_name: "B1 泵房",
  region: "浦东新区",
  zone: "urban",
  priority: "normal",
  category: null,
  problem: "报警主机故障",
  reported_at: "2026-03-13T09:00:00Z",
  response_deadline: "2026-03-13T15:00:00Z",
  arrived_at: null,
  completed_at: null,
  response_met: null,
  carried_over: carried,
});

const promise = (reportedAt: string) => ({
  calendar_version: 1, policy: "suburban", policy_label_en: "Suburban: on site within 7 working hours", policy_label_zh: "郊区:7个工作小时内到场",
  contract: null, reported_at: reportedAt, clock_starts: "2026-03-16T00:30:00Z", outside_working_hours: true, response_deadline: "2026-03-16T07:30:00Z",
  commitments: [], utc_offset: "+08:00", say_en: "Outside working hours: expect the technician by Mon 16 Mar 15:30.", say_zh: "非工作时间来电",
});

describe("Calls", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/calls": [call(1, true), call(2, false)],
      "GET /console/api/technicians": [{ login: "li.wei", display_name: "李伟 Li Wei", open_orders: 2 }],
      "GET /console/api/customers?q=%E9%87%91%E6%A1%A5": [{ id: "cu-1", code: "C-JINQIAO", name: "金桥国际商业广场" }],
      "GET /console/api/customers/cu-1/sites": [
        {
          id: "si-1", code: "S-1", name: "B1 泵房", address: "浦东新区 1 号", region: "浦东新区", zone: "suburban",
          assets: [{ id: "as-1", code: "JQ-PUMP-01", name: "1# 喷淋泵", asset_type: "pump", model: "XBD", serial: "1" }],
        },
      ],
      // The server's promise: a Saturday call waits for Monday's working hours.
      "GET /console/api/calendar/deadline": (s: Sent) => promise(new URL(s.path, "http://x").searchParams.get("reported_at")!),
      "POST /console/api/calls": (s: Sent) => ({
        ...call(3, false), response_deadline: "2026-03-16T07:30:00Z", problem: (s.body as { problem: string }).problem, promise: promise((s.body as { reported_at: string }).reported_at),
      }),
      "POST /console/api/work-orders/wo-2/dispatch": { ...call(2, false), status: "dispatched" },
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("lists carried-over calls marked, and will not assign without a technician", async () => {
    render(Calls);
    const rows = await screen.findAllByTestId("call-row");
    expect(within(rows[0]).getByText("carried over")).toBeTruthy();
    expect(within(rows[1]).queryByText("carried over")).toBeNull();
    await fireEvent.click(within(rows[1]).getByRole("button", { name: "Assign" }));
    expect(screen.getByRole("alert").textContent).toContain("Choose a technician for C-20260314-0002 first.");
    expect(sent.some((s) => s.method === "POST")).toBe(false);

    await fireEvent.change(within(rows[1]).getByLabelText("Technician for C-20260314-0002"), { target: { value: "li.wei" } });
    await fireEvent.click(within(rows[1]).getByRole("button", { name: "Assign" }));
    await vi.waitFor(() => expect(sent.find((s) => s.method === "POST")?.body).toEqual({ technician: "li.wei" }));
    expect((await screen.findByText(/assigned to 李伟 Li Wei/)).textContent).toContain("C-20260314-0002");
  });

  it("previews the server's deadline and what to tell the caller, and registers the call", async () => {
    render(Calls);
    await fireEvent.click(screen.getByRole("button", { name: "Register the call" }));
    expect(screen.getByRole("alert").textContent).toBe("Choose the customer who called.");

    await fireEvent.input(screen.getByLabelText("Customer"), { target: { value: "金桥" } });
    await fireEvent.click(await screen.findByRole("button", { name: /C-JINQIAO/ }, { timeout: 2000 }));
    // One site: chosen by itself; the server's preview names the policy and what to tell the caller.
    expect(await screen.findByText(/Respond by .* \(Suburban: on site within 7 working hours\)/)).toBeTruthy();
    expect((await screen.findByTestId("tell-caller")).textContent).toContain("expect the technician by Mon 16 Mar 15:30");
    const asked = sent.find((s) => s.path.startsWith("/console/api/calendar/deadline"))!.path;
    expect(new URL(asked, "http://x").searchParams.get("site_id")).toBe("si-1");
    // The day in the language's own way (English: `14 Mar 2026`), the time on a 24-hour clock.
    const day = screen.getByLabelText("Day of the call");
    await fireEvent.input(day, { target: { value: "14 Mar 2026" } });
    await fireEvent.change(day);
    const time = screen.getByLabelText("Time of the call (24-hour clock)");
    await fireEvent.input(time, { target: { value: "10:00" } });
    await fireEvent.change(time);
    await fireEvent.click(screen.getByLabelText(/JQ-PUMP-01/));
    await fireEvent.input(screen.getByLabelText("Problem as reported"), { target: { value: "喷淋泵漏水" } });
    await fireEvent.click(screen.getByRole("button", { name: "Register the call" }));
    await vi.waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    const body = sent.find((s) => s.method === "POST")!.body as Record<string, unknown>;
    expect(body).toMatchObject({ customer_id: "cu-1", site_id: "si-1", asset_ids: ["as-1"], problem: "喷淋泵漏水", priority: "normal", kind: "repair_call", category: "A" });
    expect(body.reported_at).toBe(new Date(2026, 2, 14, 10, 0).toISOString());
    expect((await screen.findByText(/Registered C-20260314-0003/)).textContent).toContain("respond by");
    expect((await screen.findByTestId("registered-tell-caller")).textContent).toContain("Mon 16 Mar 15:30");
  });
});
