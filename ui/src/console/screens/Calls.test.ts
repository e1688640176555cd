import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import Calls from "./Calls.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { CallDetail, CallSummary } from "../lib/api";

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

const detail = (over: Partial<CallDetail>): CallDetail => ({
  id: "call-1", number: "C-20260314-0003", channel: "phone", call_type: "repair", caller_name: "陈经理", caller_phone: "021 5030 1234",
  customer_id: "cu-1", customer_code: "C-JINQIAO", customer_name: "金桥国际商业广场", site_id: null, site_name: null, priority: "normal",
  problem: "", reported_at: "2026-03-14T02:00:00Z", taken_by: "office", work_order_id: null, work_order_status: null, complaint_id: null, return_visit_id: null, follows_order_id: null,
  closed_at: null, state: "open", equipment_model: null, asset_ids: [], answer: null, audit: [], ...over,
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
      "POST /console/api/calls": (s: Sent) => {
        const body = s.body as { problem: string; call_type: string; reported_at: string; new_customer?: { name: string } };
        if (body.call_type !== "repair") {
          return { call: detail({ call_type: body.call_type as CallDetail["call_type"], customer_code: "N-20260314-01", customer_name: body.new_customer?.name ?? null }), work_order: null };
        }
        return {
          call: detail({ state: "work_order", work_order_id: "wo-3" }),
          work_order: { ...call(3, false), response_deadline: "2026-03-16T07:30:00Z", problem: body.problem },
          promise: promise(body.reported_at),
        };
      },
      "GET /console/api/customers?phone=021+5030+1234": [{ id: "cu-1", code: "C-JINQIAO", name: "金桥国际商业广场", contact: "陈经理", phone: "+86 21 5030 1234" }],
      "GET /console/api/customers?phone=139+0000+0001": [],
      "GET /console/api/regions": ["浦东新区"],
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
    expect(screen.getByRole("alert").textContent).toBe("Write who called.");
    await fireEvent.input(screen.getByLabelText("Caller"), { target: { value: "陈经理" } });
    await fireEvent.input(screen.getByLabelText("Caller's phone"), { target: { value: "021 5030 1234" } });
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
    expect(body).toMatchObject({
      channel: "phone", call_type: "repair", caller_name: "陈经理", caller_phone: "021 5030 1234",
      customer_id: "cu-1", site_id: "si-1", asset_ids: ["as-1"], problem: "喷淋泵漏水", priority: "normal", kind: "repair_call", category: "A",
    });
    expect(body.reported_at).toBe(new Date(2026, 2, 14, 10, 0).toISOString());
    expect((await screen.findByText(/Registered C-20260314-0003/)).textContent).toContain("respond by");
    expect((await screen.findByTestId("registered-tell-caller")).textContent).toContain("Mon 16 Mar 15:30");
  });

  it("offers the customer on file for a caller's phone", async () => {
    render(Calls);
    const phone = screen.getByLabelText("Caller's phone");
    await fireEvent.input(phone, { target: { value: "021 5030 1234" } });
    await fireEvent.change(phone);
    const offer = await screen.findByTestId("phone-on-file");
    expect(offer.textContent).toContain("This phone is customer C-JINQIAO 金桥国际商业广场 (陈经理).");
    await fireEvent.click(within(offer).getByRole("button", { name: "Use C-JINQIAO" }));
    expect((screen.getByLabelText("Customer") as HTMLInputElement).value).toBe("C-JINQIAO 金桥国际商业广场");
    expect(screen.queryByTestId("phone-on-file")).toBeNull();
  });

  it("registers an inquiry from a new caller: no site, answered and closed on the call", async () => {
    render(Calls);
    await fireEvent.change(screen.getByLabelText("Type of call"), { target: { value: "inquiry" } });
    // No site, no equipment list, no deadline for an inquiry; the customer is optional.
    expect(screen.queryByLabelText("Site")).toBeNull();
    expect(screen.queryByTestId("deadline-preview")).toBeNull();
    expect(screen.getByLabelText("Customer (if known)")).toBeTruthy();
    await fireEvent.input(screen.getByLabelText("Caller"), { target: { value: "赵女士" } });
    const phone = screen.getByLabelText("Caller's phone");
    await fireEvent.input(phone, { target: { value: "139 0000 0001" } });
    await fireEvent.change(phone);
    await fireEvent.click(screen.getByLabelText(/register the caller as a new customer/));
    await fireEvent.click(screen.getByRole("button", { name: "Register the call" }));
    expect(screen.getByRole("alert").textContent).toBe("Write the new customer's name.");
    await fireEvent.input(screen.getByLabelText("New customer's name"), { target: { value: "浦东某物业公司" } });
    await fireEvent.input(screen.getByLabelText("Equipment model"), { target: { value: "JB-QB-GST200" } });
    await fireEvent.input(screen.getByLabelText("Problem as reported"), { target: { value: "咨询年度维保合同价格" } });
    await fireEvent.input(screen.getByLabelText("Answer given"), { target: { value: "已发送报价单" } });
    await fireEvent.click(screen.getByLabelText("Answered: close the call"));
    await fireEvent.click(screen.getByRole("button", { name: "Register the call" }));
    await vi.waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    const body = sent.find((s) => s.method === "POST")!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      channel: "phone", call_type: "inquiry", caller_name: "赵女士", caller_phone: "139 0000 0001", new_customer: { name: "浦东某物业公司" },
      equipment_model: "JB-QB-GST200", problem: "咨询年度维保合同价格", answer: "已发送报价单", close: true, asset_ids: [],
    });
    expect(body.site_id).toBeUndefined();
    expect(body.new_site).toBeUndefined();
    expect(body.customer_id).toBeUndefined();
    expect(body.kind).toBeUndefined();
    const done = await screen.findByText(/Registered C-20260314-0003 \(Inquiry\)/);
    expect(done.textContent).toContain("New customer N-20260314-01 浦东某物业公司 registered.");
  });
});
