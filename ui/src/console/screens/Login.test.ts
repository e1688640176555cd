import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import Login from "./Login.svelte";
import { lang } from "../lib/locale.svelte";
import { reply, stubFetch } from "../test/fetch";

describe("Login", () => {
  beforeEach(() => {
    lang.locale = "en";
  });
  afterEach(() => vi.unstubAllGlobals());

  async function submit(login: string, password: string) {
    await fireEvent.input(screen.getByLabelText("Login"), { target: { value: login } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: password } });
    await fireEvent.click(screen.getByRole("button", { name: "Log in" }));
  }

  it("says in words that the login or password is wrong, and clears the password", async () => {
    stubFetch({ "POST /console/api/login": reply(401, { error: { kind: "unauthorized", message: "wrong login or password" } }) });
    const onLogin = vi.fn();
    render(Login, { props: { onLogin } });
    await submit("office", "nope");
    expect(await screen.findByRole("alert")).toHaveProperty("textContent", "Wrong login or password. Check both and try again.");
    expect((screen.getByLabelText("Password") as HTMLInputElement).value).toBe("");
    expect(onLogin).not.toHaveBeenCalled();
  });

  it("tells a technician that the console is for office staff (in Chinese too)", async () => {
    lang.locale = "zh-CN";
    stubFetch({ "POST /console/api/login": reply(403, { error: { kind: "forbidden", message: "this console is for office staff" } }) });
    render(Login, { props: { onLogin: vi.fn() } });
    await fireEvent.input(screen.getByLabelText("登录名"), { target: { value: "li.wei" } });
    await fireEvent.input(screen.getByLabelText("密码"), { target: { value: "x" } });
    await fireEvent.click(screen.getByRole("button", { name: "登录" }));
    expect((await screen.findByRole("alert")).textContent).toContain("此控制台仅供办公室人员使用");
  });

  it("asks for both fields before calling the server", async () => {
    const sent = stubFetch({});
    render(Login, { props: { onLogin: vi.fn() } });
    await submit("office", "");
    expect((await screen.findByRole("alert")).textContent).toBe("Enter your login and your password.");
    expect(sent).toHaveLength(0);
  });

  it("hands the signed-in person to the app", async () => {
    const sent = stubFetch({ "POST /console/api/login": { login: "office", display_name: "Service desk", role: "office" } });
    const onLogin = vi.fn();
    render(Login, { props: { onLogin } });
    await submit(" office ", "s3cret");
    await vi.waitFor(() => expect(onLogin).toHaveBeenCalledWith({ login: "office", display_name: "Service desk", role: "office" }));
    expect(sent[0].body).toEqual({ login: "office", password: "s3cret" });
  });
});
