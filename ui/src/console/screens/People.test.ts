import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import People from "./People.svelte";
import { lang } from "../lib/locale.svelte";
import { stubFetch, type Sent } from "../test/fetch";
import type { Device, Me, User } from "../lib/api";

const admin: Me = { login: "admin", display_name: "Administrator", role: "admin" };
const users: User[] = [
  { login: "admin", display_name: "Administrator", role: "admin", disabled: false, created_at: "2026-03-01T00:00:00Z" },
  { login: "li.wei", display_name: "李伟 Li Wei", role: "technician", disabled: false, created_at: "2026-03-01T00:00:00Z" },
];
const device: Device = {
  id: "dev-1", technician: "li.wei", name: "ThinkPad T14", enrolled_at: "2026-03-01T00:00:00Z", last_seen_at: "2026-03-10T00:00:00Z",
  acked_seq: 42, revoked_at: null, revoke_reason: null, wipe_ordered: false, token_issued_at: "2026-03-08T00:00:00Z",
  token_rotated_at: "2026-03-08T00:00:00Z", store_protection: "plaintext", store_protection_at: "2026-03-10T00:00:00Z", warning: "not_seen_3_days",
};

describe("People & devices", () => {
  let sent: Sent[];
  beforeEach(() => {
    lang.locale = "en";
    sent = stubFetch({
      "GET /console/api/users": users,
      "GET /console/api/devices": [device],
      "POST /console/api/users/li.wei/enrolment-code": { code: "ABCD-EFGH-JKLM-NPQR", expires_at: "2026-03-17T00:00:00Z" },
      "POST /console/api/devices/dev-1/revoke": { ...device, revoked_at: "2026-03-14T00:00:00Z", wipe_ordered: true },
      "GET /console/api/settings": { offline_lock_days: null },
      "PATCH /console/api/settings": (s: Sent) => s.body,
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows when the laptop's token last rotated and its store protection as the laptop's own claim", async () => {
    render(People, { props: { me: admin } });
    const row = await screen.findByTestId("device-row");
    expect(within(row).getByTestId("token-rotated").textContent).not.toContain("not since enrolment");
    const protection = within(row).getByTestId("store-protection");
    expect(protection.textContent).toContain("Not encrypted");
    expect(protection.textContent).toContain("reported by the laptop");
    lang.locale = "zh-CN";
    await Promise.resolve();
    expect((await screen.findByTestId("store-protection")).textContent).toContain("笔记本于");
  });

  it("shows a technician's enrolment code once, and the laptop's warning in words", async () => {
    render(People, { props: { me: admin } });
    const row = await screen.findByTestId("user-li.wei");
    expect(within(await screen.findByTestId("device-row")).getByText(/not seen for 3 days/)).toBeTruthy();
    // No enrolment code button for an admin account.
    expect(within(screen.getByTestId("user-admin")).queryByRole("button", { name: "Enrolment code" })).toBeNull();
    await fireEvent.click(within(row).getByRole("button", { name: "Enrolment code" }));
    expect((await screen.findByTestId("enrolment-code")).textContent).toBe("ABCD-EFGH-JKLM-NPQR");
    await fireEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(screen.queryByTestId("enrolment-code")).toBeNull();
  });

  it("revokes only after a confirmation with a reason, and can order a wipe", async () => {
    render(People, { props: { me: admin } });
    const row = await screen.findByTestId("device-row");
    await fireEvent.click(within(row).getByRole("button", { name: "Revoke…" }));
    await fireEvent.click(within(row).getByRole("button", { name: "Revoke now" }));
    expect(within(row).getByRole("alert").textContent).toContain("Give the reason");
    expect(sent.some((s) => s.method === "POST")).toBe(false);
    await fireEvent.input(within(row).getByLabelText("Reason"), { target: { value: "laptop stolen" } });
    await fireEvent.click(within(row).getByLabelText(/Also wipe/));
    await fireEvent.click(within(row).getByRole("button", { name: "Revoke now" }));
    await vi.waitFor(() => expect(sent.find((s) => s.method === "POST")?.body).toEqual({ reason: "laptop stolen", wipe: true }));
    expect((await screen.findByText(/ordered to wipe its data/)).textContent).toContain("ThinkPad T14");
  });

  it("lets office staff look but not change", async () => {
    render(People, { props: { me: { login: "office", display_name: "Office", role: "office" } } });
    await screen.findByTestId("device-row");
    expect(screen.getByText("Only an administrator can change people and devices.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Revoke…" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Add" })).toBeNull();
    // The offline lock is shown, not offered for change.
    expect((await screen.findByTestId("offline-lock-current")).textContent).toContain("laptops never lock");
    expect(screen.queryByLabelText("Lock after (days without a sync)")).toBeNull();
  });

  it("sets and clears the offline lock, refusing a number of days that is not one, in both languages", async () => {
    render(People, { props: { me: admin } });
    const box = await screen.findByTestId("offline-lock");
    expect((await within(box).findByTestId("offline-lock-current")).textContent).toBe("Now: laptops never lock.");
    const days = within(box).getByLabelText("Lock after (days without a sync)");
    await fireEvent.input(days, { target: { value: "0" } });
    await fireEvent.click(within(box).getByRole("button", { name: "Save" }));
    expect(within(box).getByText(/from 1 to 3650/)).toBeTruthy();
    expect(sent.some((s) => s.method === "PATCH")).toBe(false);
    await fireEvent.input(days, { target: { value: "7" } });
    await fireEvent.click(within(box).getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(sent.find((s) => s.method === "PATCH")?.body).toEqual({ offline_lock_days: 7 }));
    expect((await within(box).findByText("Now: laptops lock after 7 days without a sync.")).textContent).toBeTruthy();
    expect(sent.find((s) => s.method === "PATCH")?.headers["X-Fieldbook-Console"]).toBe("1");
    lang.locale = "zh-CN";
    expect((await within(box).findByText("当前：笔记本 7 天未同步即锁定。")).textContent).toBeTruthy();
    lang.locale = "en";
    await fireEvent.input(days, { target: { value: "" } });
    await fireEvent.click(within(box).getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(sent.filter((s) => s.method === "PATCH").at(-1)?.body).toEqual({ offline_lock_days: null }));
    expect((await within(box).findByText("Now: laptops never lock.")).textContent).toBeTruthy();
  });
});
