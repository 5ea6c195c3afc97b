// The API as the dashboard sees it: GraphQL over HTTP for queries and mutations, one
// graphql-transport-ws connection for every subscription, the token and the event cursor
// kept in this tab's sessionStorage (so a reload loses nothing).
import { createClient } from "graphql-ws";

const TOKEN_KEY = "appmanage.token";
const CURSOR_KEY = "appmanage.cursor";
const ENDPOINT = new URL("graphql", document.baseURI);

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export const cursor = {
  get: () => sessionStorage.getItem(CURSOR_KEY),
  set: (value) => sessionStorage.setItem(CURSOR_KEY, value),
};

/** An answer the API gave instead of data, with its own words. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** `data` of a query or mutation; ApiError with the API's message otherwise. */
export async function request(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.get()}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`AppManage did not answer: ${error.message}`, "UNREACHABLE");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`AppManage answered HTTP ${response.status} without JSON`, "HTTP");
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new ApiError(first.message, first.extensions?.code);
  }
  return body.data;
}

let client = null;

function wsClient() {
  if (!client) {
    const url = new URL(ENDPOINT);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    client = createClient({
      url: url.href,
      connectionParams: () => ({ Authorization: `Bearer ${token.get()}` }),
      retryAttempts: Infinity,
      shouldRetry: (event) => !(event && [4403, 4401, 4429].includes(event.code)),
    });
  }
  return client;
}

export function disconnect() {
  client?.dispose();
  client = null;
}

/**
 * Subscribes; `onData` gets each result's data, `onError` the API's message. graphql-ws
 * sends `variables` again on every reconnect, so a caller may update them in place (the
 * events cursor does). Returns the unsubscribe function.
 */
export function subscribe(query, variables, onData, onError = () => {}) {
  return wsClient().subscribe(
    { query, variables },
    {
      next: (result) => (result.errors?.length ? onError(result.errors[0].message) : onData(result.data)),
      error: (error) => onError(describeSocketError(error)),
      complete: () => {},
    },
  );
}

function describeSocketError(error) {
  if (Array.isArray(error)) return error[0]?.message ?? "the subscription failed";
  if (error && typeof error.code === "number") {
    return error.reason || `the live connection closed (${error.code})`;
  }
  return error?.message ?? "the live connection failed";
}

/** What this token may do: "VIEWER", "OPERATOR" or "ADMIN". */
export async function probeRole() {
  const answer = await fetchRaw("{ viewer { role } }");
  if (answer.errors) throw new ApiError(answer.errors[0]?.message ?? "the role could not be read");
  return answer.data.viewer.role;
}

async function fetchRaw(query) {
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.get()}` },
    body: JSON.stringify({ query }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) throw new ApiError(body.errors?.[0]?.message ?? "the token was refused", "UNAUTHENTICATED");
  return body;
}
