/**
 * Component tests stub `fetch` at the boundary (the real server is exercised by the browser
 * e2e tests in ui/e2e/console/): a table of "METHOD /path" → answer, and a log of the requests.
 */
import { vi } from "vitest";

export type Answer = unknown | { status: number; body?: unknown };
export interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export function reply(status: number, body?: unknown) {
  return { __reply: true, status, body };
}

/** A route may answer later: give a function returning a promise to hold a response back. */
export function stubFetch(routes: Record<string, Answer | ((sent: Sent) => Answer | Promise<Answer>)>): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      const s: Sent = {
        method,
        path: url,
        headers: (init.headers ?? {}) as Record<string, string>,
        body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      };
      sent.push(s);
      const bare = url.split("?")[0];
      const route = routes[`${method} ${url}`] ?? routes[`${method} ${bare}`];
      if (route === undefined) return new Response(JSON.stringify({ error: { kind: "not_found", message: `no stub for ${method} ${url}` } }), { status: 404 });
      let answer = typeof route === "function" ? await (route as (s: Sent) => Answer | Promise<Answer>)(s) : route;
      let status = 200;
      if (answer && typeof answer === "object" && "__reply" in answer) {
        status = (answer as unknown as { status: number }).status;
        answer = (answer as unknown as { body?: unknown }).body;
      }
      if (status === 204) return new Response(null, { status });
      return new Response(JSON.stringify(answer ?? null), { status, headers: { "Content-Type": "application/json" } });
    }),
  );
  return sent;
}
