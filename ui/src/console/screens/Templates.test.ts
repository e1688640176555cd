import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import Templates from "./Templates.svelte";
import { lang } from "../lib/locale.svelte";
import { reply, stubFetch, type Sent } from "../test/fetch";

const body = {
  title: { zh: "消防巡检", en: "Fire patrol" },
  sections: [{ key: "pump", title: { zh: "水泵", en: "Pumps" }, items: [{ key: "pump.leak", label: { zh: "无渗漏", en: "No leaks" }, kind: "pass_fail", required: true, options: [{ key: "x" }] }] }],
};

describe("Templates", () => {
  let sent: Sent[];
  let answer: unknown;
  beforeEach(() => {
    lang.locale = "en";
    answer = { code: "FP", version: 4, body, published_at: "2026-03-14T00:00:00Z" };
    sent = stubFetch({
      "GET /console/api/templates": [{ code: "FP", latest_version: 3, title_en: "Fire patrol", title_zh: "消防巡检", published_at: "2026-03-01T00:00:00Z", versions: [1, 2, 3] }],
      "GET /console/api/templates/FP/versions/3": { code: "FP", version: 3, body, published_at: "2026-03-01T00:00:00Z" },
      "GET /console/api/templates/FP/versions/4": { code: "FP", version: 4, body, published_at: "2026-03-14T00:00:00Z" },
      "POST /console/api/templates": () => answer,
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("edits an item in the form and publishes the whole body as the next version", async () => {
    render(Templates, { props: { me: { login: "office", display_name: "Office", role: "office" } } });
    const publish = await screen.findByRole("button", { name: "Publish as version 4" });
    expect(publish.hasAttribute("disabled")).toBe(true);
    await fireEvent.input(screen.getByLabelText("Item (English) 1.1"), { target: { value: "No leaks at all" } });
    await fireEvent.click(screen.getByLabelText("Required 1.1"));
    expect(publish.hasAttribute("disabled")).toBe(false);
    await fireEvent.click(publish);
    await vi.waitFor(() => expect(sent.some((s) => s.method === "POST")).toBe(true));
    const posted = sent.find((s) => s.method === "POST")!.body as { code: string; body: typeof body };
    expect(posted.code).toBe("FP");
    expect(posted.body.sections[0].items[0]).toEqual({ key: "pump.leak", label: { zh: "无渗漏", en: "No leaks at all" }, kind: "pass_fail", required: false, options: [{ key: "x" }] });
    expect((await screen.findByRole("status")).textContent).toContain("FP version 4 published");
  });

  it("shows the server's refusal next to the editor", async () => {
    answer = reply(422, { error: { kind: "invalid", message: "section pump, item pump.leak: kind \"crystal_ball\" is not a kind; use pass_fail, numeric, …" } });
    render(Templates, { props: { me: { login: "office", display_name: "Office", role: "office" } } });
    await screen.findByRole("button", { name: "Publish as version 4" });
    await fireEvent.click(screen.getByRole("button", { name: "JSON (every property)" }));
    const editor = screen.getByLabelText(/Template \(JSON/);
    await fireEvent.input(editor, { target: { value: "{" } });
    expect(screen.getByRole("alert").textContent).toContain("Not valid JSON");
    await fireEvent.input(editor, { target: { value: JSON.stringify({ ...body, title: { zh: "新", en: "New" } }) } });
    await fireEvent.click(screen.getByRole("button", { name: "Publish as version 4" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Please correct this — section pump, item pump.leak");
    expect(alert.closest("#tpl-problems")).not.toBeNull();
  });

  it("keeps the new-template form when the first template loads after the click", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    stubFetch({
      "GET /console/api/templates": [{ code: "FP", latest_version: 3, title_en: "Fire patrol", title_zh: "消防巡检", published_at: "2026-03-01T00:00:00Z", versions: [1, 2, 3] }],
      "GET /console/api/templates/FP/versions/3": () => held.then(() => ({ code: "FP", version: 3, body, published_at: "2026-03-01T00:00:00Z" })),
    });
    render(Templates, { props: { me: { login: "office", display_name: "Office", role: "office" } } });
    await screen.findByRole("link", { name: /FP · Fire patrol/ });
    await fireEvent.click(screen.getByRole("button", { name: "New template" }));
    release();
    await held;
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByLabelText("Template code")).toBeTruthy();
    expect((screen.getByLabelText("Item (English) 1.1") as HTMLInputElement).value).toBe("Equipment runs normally");
    expect(screen.queryByDisplayValue("No leaks")).toBeNull();
  });
});
