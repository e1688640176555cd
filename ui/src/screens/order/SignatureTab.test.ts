import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { i18n } from "../../lib/locale.svelte";
import { detail } from "../../test/fixtures";
import type { Signature } from "../../lib/api";

// A stand-in for signature_pad (jsdom has no canvas): it replays two pen strokes when "drawn".
const pad = vi.hoisted(() => ({
  data: [] as { points: { x: number; y: number; time: number; pressure: number }[] }[],
  listeners: {} as Record<string, () => void>,
}));
vi.mock("signature_pad", () => ({
  default: class {
    constructor() {
      pad.data = [];
    }
    addEventListener(type: string, f: () => void) {
      pad.listeners[type] = f;
    }
    toData() {
      return pad.data;
    }
    fromData(d: typeof pad.data) {
      pad.data = d;
    }
    clear() {
      pad.data = [];
    }
    on() {}
    off() {}
  },
}));

import SignatureTab from "./SignatureTab.svelte";
import LockBanner from "./LockBanner.svelte";

function draw() {
  pad.data.push(
    { points: [{ x: 1, y: 2, time: 1000, pressure: 0.5 }, { x: 3, y: 4, time: 1016, pressure: 0.5 }] },
    { points: [{ x: 9, y: 9, time: 5000, pressure: 0.5 }] },
  );
  pad.listeners.endStroke();
}

const signature: Signature = {
  id: "sig-1",
  work_order_id: "wo-1",
  revision: 1,
  signer_name: "王工",
  signer_title: "设备科",
  signed_at: "2026-03-14T06:00:00Z",
  strokes: [[{ x: 1, y: 2, t: 0 }, { x: 3, y: 4, t: 16 }]],
  signed_content: "{}",
  digest: "ab".repeat(32),
  device_id: "dev-1",
  device_public_key: "00",
  device_signature: "00",
};

describe("Customer signature", () => {
  let calls: { cmd: string; args: Record<string, unknown> }[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue({ scale() {} } as never);
    globalThis.ResizeObserver ??= class {
      observe() {}
      disconnect() {}
      unobserve() {}
    } as never;
    mockIPC((cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> });
      if (cmd === "parts") return [];
      if (cmd === "verify") return { order: "WO-1", revision: 1, status: "signed", intact: true, signatures: [], problems: [] };
      return null;
    });
  });
  afterEach(() => {
    clearMocks();
    vi.restoreAllMocks();
  });

  it("summarises what is signed and sends the strokes as [[{x, y, t}]]", async () => {
    const d = detail({
      answers: [
        { item_key: "panel", asset_id: "", value: "fail", note: null, answered_at: "2026-03-14T03:00:00Z" },
        { item_key: "pump.pressure", asset_id: "a-p1", value: 0.1, note: null, answered_at: "2026-03-14T03:00:00Z" },
      ],
      findings: [
        { item_key: "panel", asset_id: "", label: { zh: "控制柜", en: "Panel" }, reason: { zh: "不合格", en: "failed" }, value: "fail" },
      ],
    });
    d.order.status = "completed";
    const onchanged = vi.fn();
    render(SignatureTab, { props: { detail: d, onchanged } });
    expect(screen.getByText("0 pass, 1 fail, 0 not applicable; 1 readings; 0 other answers")).toBeTruthy();
    expect(screen.getByText("failed")).toBeTruthy();

    const submit = screen.getByRole("button", { name: "Sign and lock" }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    draw();
    await waitFor(() => expect(submit.disabled).toBe(false));
    await fireEvent.input(screen.getByLabelText("Signer's name"), { target: { value: "王工" } });
    await fireEvent.click(submit);
    await waitFor(() => expect(calls.some((c) => c.cmd === "sign")).toBe(true));
    expect(calls.find((c) => c.cmd === "sign")!.args).toEqual({
      order: "wo-1",
      request: {
        signer_name: "王工",
        signer_title: null,
        strokes: [[{ x: 1, y: 2, t: 0 }, { x: 3, y: 4, t: 16 }], [{ x: 9, y: 9, t: 0 }]],
      },
    });
    expect(onchanged).toHaveBeenCalled();
  });

  it("undo removes the last stroke", async () => {
    const d = detail();
    d.order.status = "completed";
    render(SignatureTab, { props: { detail: d, onchanged: vi.fn() } });
    draw();
    await fireEvent.click(await screen.findByRole("button", { name: "Undo stroke" }));
    expect(pad.data).toHaveLength(1);
  });

  it("a signed order shows the signature, its digest and whether it is intact", async () => {
    const d = detail({ signatures: [signature] });
    d.order.status = "signed";
    render(SignatureTab, { props: { detail: d, onchanged: vi.fn() } });
    expect(screen.getByRole("img", { name: "Signature of 王工" })).toBeTruthy();
    expect(screen.getByText("ab".repeat(32))).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Check the signed record" }));
    expect(await screen.findByText(/Intact/)).toBeTruthy();
  });

  it("the lock banner asks for a reason before amending", async () => {
    const d = detail({ signatures: [signature] });
    d.order.status = "signed";
    const onchanged = vi.fn();
    render(LockBanner, { props: { detail: d, onchanged } });
    expect(screen.getByText("Signed and locked")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Amend…" }));
    await fireEvent.input(screen.getByLabelText("Reason for the amendment"), { target: { value: "漏记压力表" } });
    await fireEvent.click(screen.getByRole("button", { name: "Open amendment" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalled());
    expect(calls.at(-1)).toEqual({ cmd: "amend", args: { order: "wo-1", reason: "漏记压力表" } });
  });
});
