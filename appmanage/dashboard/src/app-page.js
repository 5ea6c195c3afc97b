// One app: status and actions, services, live resources, ports as links, settings (secrets
// masked), update to another version (or a custom app's compose files), backups, schedules,
// job history, and the containers' logs live.
import { useEffect, useRef, useState } from "preact/hooks";
import { request, subscribe } from "./api.js";
import { APP_PAGE, LOGS, STATUS_OF, UPDATE, VERSIONS } from "./documents.js";
import { Backups } from "./backups.js";
import { ComposeFiles } from "./compose.js";
import { Schedules } from "./schedules.js";
import { LiveStats } from "./stats.js";
import { acceptedJob, ActionButtons, ErrorText, html, Status, stickToEnd, time, useMayOperate } from "./ui.js";

function portUrl(port) {
  const host = !port.hostIp || port.hostIp === "0.0.0.0" || port.hostIp === "::" ? location.hostname : port.hostIp;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port.hostPort}/`;
}

function UpdateForm({ app, onDone }) {
  const [versions, setVersions] = useState([]);
  const [version, setVersion] = useState("");
  const [error, setError] = useState(null);
  useEffect(() => {
    request(VERSIONS, { name: app.catalogApp })
      .then(({ catalogApp }) => {
        const others = (catalogApp?.versions ?? []).filter((v) => v !== app.version);
        setVersions(others);
        setVersion(others.includes(catalogApp.defaultVersion) ? catalogApp.defaultVersion : others[0] ?? "");
      })
      .catch((failure) => setError(failure.message));
  }, [app.catalogApp, app.version]);

  async function update(event) {
    event.preventDefault();
    setError(null);
    try {
      const { updateApp } = await request(UPDATE, { name: app.name, version });
      onDone(acceptedJob(updateApp));
    } catch (failure) {
      setError(failure.message);
    }
  }
  if (!versions.length) return html`<${ErrorText} message=${error} />`;
  return html`<h2>Update</h2><form class="update" onSubmit=${update}>
    <label>Version <select value=${version} onChange=${(event) => setVersion(event.target.value)}>
      ${versions.map((v) => html`<option value=${v}>${v}</option>`)}
    </select></label>
    <button type="submit">Update</button>
    <${ErrorText} message=${error} />
  </form>`;
}

function LiveLogs({ name }) {
  const [lines, setLines] = useState([]);
  const [error, setError] = useState(null);
  const box = useRef(null);
  useEffect(() => subscribe(LOGS, { name }, ({ appLogs: entry }) =>
    setLines((current) => [...current.slice(-999), `${entry.service} | ${entry.line}`]), setError), [name]);
  useEffect(() => stickToEnd(box.current), [lines.length]);
  return html`<${ErrorText} message=${error} />
    <pre class="log" aria-label="Container logs" ref=${box}>${lines.join("\n")}</pre>`;
}

export function AppPage({ name }) {
  const [app, setApp] = useState(undefined);
  const [error, setError] = useState(null);
  const mayOperate = useMayOperate();
  const reload = () => request(APP_PAGE, { name }).then(({ app: read }) => setApp(read)).catch((failure) => setError(failure.message));
  const toJob = (id) => { location.hash = `#/job/${encodeURIComponent(id)}`; };

  useEffect(() => {
    reload();
    let timer;
    return subscribe(STATUS_OF, { name }, () => { clearTimeout(timer); timer = setTimeout(reload, 150); }, setError);
  }, [name]);

  if (app === undefined) return html`<h1>${name}</h1><${ErrorText} message=${error} />`;
  if (app === null) return html`<h1>${name}</h1><p role="alert">No app is named ${name}; it may have been uninstalled.</p>`;
  return html`<article aria-labelledby="app-title">
    <h1 id="app-title">${app.name}</h1>
    <p><${Status} status=${app.status} reason=${app.statusReason} /></p>
    <p class="muted">${app.catalogApp ?? "custom"} version ${app.version} · installed ${time(app.createdAt)}</p>
    <${ErrorText} message=${error} />
    <${ActionButtons} app=${app} onDone=${toJob} />
    ${app.activeJob ? html`<p>Running job: <a href=${`#/job/${app.activeJob.id}`}>${app.activeJob.kind} (${app.activeJob.state})</a></p>` : null}
    ${mayOperate && app.catalogApp && app.availableActions.includes("UPDATE") ? html`<${UpdateForm} app=${app} onDone=${toJob} />` : null}
    ${app.catalogApp ? null : html`<${ComposeFiles} app=${app} />`}

    <h2>Services</h2>
    <table><thead><tr><th>Service</th><th>State</th><th>Health</th><th>Exit code</th><th>Image</th></tr></thead>
      <tbody>${app.services.map((s) => html`<tr key=${s.container}>
        <th scope="row">${s.name}</th><td>${s.state}</td><td>${s.health ?? "none"}</td><td>${s.exitCode ?? ""}</td><td>${s.image ?? ""}</td>
      </tr>`)}</tbody></table>

    <${LiveStats} name=${app.name} />

    <h2>Ports</h2>
    ${app.ports.length ? html`<ul>${app.ports.map((p) => html`<li>
      ${p.protocol === "tcp" ? html`<a href=${portUrl(p)} target="_blank" rel="noopener">${portUrl(p)}</a>` : `${p.hostPort}/${p.protocol}`}${" "}
      → ${p.service}:${p.containerPort}</li>`)}</ul>` : html`<p>No published ports.</p>`}

    <h2>Settings</h2>
    <table><tbody>${app.settings.map((s) => html`<tr key=${s.key}>
      <th scope="row">${s.key}</th><td>${s.secret || s.value === null ? html`<span aria-label="secret, hidden">••••••••</span>` : s.value}</td>
    </tr>`)}</tbody></table>

    <${Backups} app=${app} onJob=${toJob} />
    <${Schedules} app=${app.name} />

    <h2>Jobs</h2>
    <table><thead><tr><th>Job</th><th>State</th><th>Step</th><th>Created</th><th>Finished</th><th>Error</th></tr></thead>
      <tbody>${app.jobs.map((j) => html`<tr key=${j.id}>
        <th scope="row"><a href=${`#/job/${j.id}`}>${j.kind}</a></th><td>${j.state}</td><td>${j.step ?? ""}</td>
        <td>${time(j.createdAt)}</td><td>${time(j.finishedAt)}</td><td>${j.error ?? ""}</td>
      </tr>`)}</tbody></table>

    <h2>Logs</h2>
    <${LiveLogs} name=${app.name} />
  </article>`;
}
