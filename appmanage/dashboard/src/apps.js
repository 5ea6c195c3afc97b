// The apps table: state from the `apps` query, kept live by the `events` subscription,
// which resumes after the cursor this tab saw last.
import { useEffect, useRef, useState } from "preact/hooks";
import { cursor, request, subscribe } from "./api.js";
import { APP_ROW, APPS, EVENTS } from "./documents.js";
import { ActionButtons, ErrorText, html, Status } from "./ui.js";

const STATUSES = [
  "RUNNING", "UNHEALTHY", "DEGRADED", "EXITED", "RESTARTING", "FAILED", "UNKNOWN",
  "INSTALLING", "UPDATING", "UNINSTALLING", "STARTING", "STOPPING", "BACKING_UP", "RESTORING",
];

function useLiveApps() {
  const [apps, setApps] = useState(null);
  const [error, setError] = useState(null);
  const refetching = useRef(new Map());

  useEffect(() => {
    let closed = false;
    const put = (name, change) =>
      setApps((current) => {
        const next = new Map(current ?? []);
        const row = change(next.get(name));
        if (row) next.set(name, row);
        else next.delete(name);
        return next;
      });

    // Actions and the active job change with the status: read the row again, once per burst.
    const refetch = (name) => {
      clearTimeout(refetching.current.get(name));
      refetching.current.set(name, setTimeout(async () => {
        try {
          const { app } = await request(APP_ROW, { name });
          if (!closed) put(name, () => app);
        } catch (failure) {
          setError(failure.message);
        }
      }, 150));
    };

    const variables = { after: cursor.get() };
    const unsubscribe = subscribe(EVENTS, variables, ({ events: event }) => {
      variables.after = event.cursor;
      cursor.set(event.cursor);
      if (event.__typename === "AppStatusEvent") {
        if (event.removed) return put(event.app, () => null);
        put(event.app, (row) => row && { ...row, status: event.status, statusReason: event.statusReason });
        refetch(event.app);
      } else {
        refetch(event.job.app);
      }
    }, setError);

    request(APPS)
      .then(({ apps: rows }) => {
        if (closed) return;
        setApps((current) => new Map([...rows.map((row) => [row.name, row]), ...(current ?? [])]));
        performance.mark("appmanage:apps-rendered");
      })
      .catch((failure) => setError(failure.message));
    return () => {
      closed = true;
      unsubscribe();
      refetching.current.forEach(clearTimeout);
    };
  }, []);
  return { apps, error };
}

export function AppsPage() {
  const { apps, error } = useLiveApps();
  const [status, setStatus] = useState("");
  const [host, setHost] = useState("");
  const all = [...(apps?.values() ?? [])];
  const hosts = [...new Set(all.map((app) => app.host))].sort();
  const rows = all
    .filter((app) => (!status || app.status === status) && (!host || app.host === host))
    .sort((a, b) => a.name.localeCompare(b.name));
  const filtered = [status && `with status ${status}`, host && `on host ${host}`].filter(Boolean).join(" ");

  return html`<section aria-labelledby="apps-title">
    <h1 id="apps-title">Apps</h1>
    <form class="filters" onSubmit=${(event) => event.preventDefault()}>
      <label>Status
        <select value=${status} onChange=${(event) => setStatus(event.target.value)}>
          <option value="">All</option>
          ${STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </label>
      <label>Host
        <select value=${host} onChange=${(event) => setHost(event.target.value)}>
          <option value="">All</option>
          ${hosts.map((h) => html`<option value=${h}>${h}</option>`)}
        </select>
      </label>
    </form>
    <${ErrorText} message=${error} />
    ${apps === null
      ? html`<p aria-busy="true">Loading apps…</p>`
      : html`<table class="apps">
          <thead><tr><th>Name</th><th>Status</th><th>Host</th><th>Catalog app</th><th>Version</th><th>Actions</th></tr></thead>
          <tbody>
            ${rows.length === 0 ? html`<tr><td colspan="6">No apps${filtered ? ` ${filtered}` : ""}.</td></tr>` : null}
            ${rows.map((app) => html`<tr key=${app.name} data-app=${app.name}>
              <th scope="row"><a href=${`#/app/${encodeURIComponent(app.name)}`}>${app.name}</a></th>
              <td><${Status} status=${app.status} reason=${app.statusReason} /></td>
              <td>${app.host}</td>
              <td>${app.catalogApp ?? "custom"}</td>
              <td>${app.version}</td>
              <td><${ActionButtons} app=${app} onDone=${() => {}} /></td>
            </tr>`)}
          </tbody>
        </table>`}
  </section>`;
}
