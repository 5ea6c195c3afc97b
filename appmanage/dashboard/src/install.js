// Installing: the catalog with search, then a form generated from the app's typed
// parameters; previewInstall's warnings come before the install can be confirmed, then the
// job is followed live. Installing from a compose file is compose.js.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { CATALOG, CATALOG_APP, INSTALL, PREVIEW } from "./documents.js";
import { JobView } from "./job.js";
import { acceptedJob, ErrorText, html, useMayOperate } from "./ui.js";

export function CatalogPage() {
  const [search, setSearch] = useState("");
  const [apps, setApps] = useState(null);
  const [error, setError] = useState(null);
  const mayOperate = useMayOperate();

  useEffect(() => {
    const timer = setTimeout(() => {
      request(CATALOG, { search: search || null })
        .then(({ catalog }) => { setApps(catalog); setError(null); })
        .catch((failure) => setError(failure.message));
    }, 200);
    return () => clearTimeout(timer);
  }, [search]);

  return html`<section aria-labelledby="catalog-title">
    <h1 id="catalog-title">Install an app</h1>
    <label class="search">Search the catalog
      <input type="search" value=${search} onInput=${(event) => setSearch(event.target.value)} />
    </label>
    ${mayOperate ? html`<p><a class="button" href="#/compose">Install from a compose file</a></p>` : null}
    <${ErrorText} message=${error} />
    <ul class="catalog">
      ${(apps ?? []).map((app) => html`<li key=${app.name}>
        <h2>${app.title} <small>${app.name} · version ${app.defaultVersion}</small></h2>
        <p>${app.description ?? ""}</p>
        ${mayOperate ? html`<a class="button" href=${`#/install/${encodeURIComponent(app.name)}`}
          aria-label=${`Install ${app.title}`}>Install</a>` : null}
      </li>`)}
    </ul>
    ${apps?.length === 0 ? html`<p>Nothing in the catalog matches “${search}”.</p>` : null}
  </section>`;
}

function generateSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

function Field({ parameter, value, onChange }) {
  const { key, type, required, choices, pattern, min, max, secret } = parameter;
  const label = parameter.label ?? key;
  const id = `setting-${key}`;
  const set = (event) => onChange(event.target.type === "checkbox" ? String(event.target.checked) : event.target.value);
  let input;
  if (choices?.length) {
    input = html`<select id=${id} value=${value} required=${required} onChange=${set}>
      ${required ? null : html`<option value="">(default)</option>`}
      ${choices.map((choice) => html`<option value=${choice}>${choice}</option>`)}
    </select>`;
  } else if (type === "BOOL") {
    input = html`<input id=${id} type="checkbox" checked=${value === "true"} onChange=${set} />`;
  } else {
    const kind = secret || type === "PASSWORD" ? "password" : type === "INT" || type === "PORT" ? "number" : type === "URL" ? "url" : "text";
    input = html`<input id=${id} name=${key} type=${kind} value=${value} required=${required}
      pattern=${pattern ?? undefined} min=${min ?? (type === "PORT" ? 1 : undefined)}
      max=${max ?? (type === "PORT" ? 65535 : undefined)} autocomplete=${kind === "password" ? "new-password" : "off"}
      onInput=${set} />`;
  }
  return html`<div class="field">
    <label for=${id}>${label}${required ? " *" : ""}</label>
    ${input}
    ${secret || type === "PASSWORD"
      ? html`<button type="button" onClick=${() => onChange(generateSecret())} aria-label=${`Generate ${label}`}>Generate</button>
          ${value ? null : html`<small>left empty, AppManage generates one</small>`}`
      : null}
    <small class="muted">${key} · ${type}${pattern ? ` · ${pattern}` : ""}</small>
  </div>`;
}

/** An install form's state: previewInstall, then installApp, with the same `input()`; a
 * change through `changed(setter)` drops the preview, so an install is always previewed. */
export function useInstall(input) {
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState(null);
  const changed = (apply) => (value) => { apply(value); setPreview(null); };

  async function ask(document, field, onAnswer) {
    setBusy(true);
    setError(null);
    try {
      onAnswer((await request(document, { input: input() }))[field]);
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  }
  const onPreview = (event) => {
    event.preventDefault();
    ask(PREVIEW, "previewInstall", (answer) =>
      answer.__typename === "InstallPreview" ? setPreview(answer) : setError(answer.message));
  };
  const onInstall = () => ask(INSTALL, "installApp", (answer) => setJobId(acceptedJob(answer)));
  return { preview, error, setError, busy, jobId, changed, onPreview, onInstall };
}

export function InstallPage({ catalogName }) {
  const [app, setApp] = useState(null);
  const [name, setName] = useState("");
  const [version, setVersion] = useState("");
  const [values, setValues] = useState({});

  useEffect(() => {
    request(CATALOG_APP, { name: catalogName })
      .then(({ catalogApp }) => {
        if (!catalogApp) throw new Error(`the catalogs have no app named ${catalogName}`);
        setApp(catalogApp);
        setVersion(catalogApp.defaultVersion);
        setValues(Object.fromEntries(catalogApp.parameters.map((p) => [p.key, p.default ?? (p.type === "BOOL" ? "false" : "")])));
      })
      .catch((failure) => setError(failure.message));
  }, [catalogName]);

  const { preview, error, setError, busy, jobId, changed, onPreview, onInstall } = useInstall(() => ({
    catalogApp: catalogName,
    name,
    version,
    settings: Object.entries(values).filter(([, value]) => value !== "").map(([key, value]) => ({ key, value })),
  }));

  if (!app) return html`<h1>Install ${catalogName}</h1><${ErrorText} message=${error} />`;
  if (jobId) return html`<h1>Installing ${name}</h1><${JobView} id=${jobId} withApp=${true} />`;
  return html`<section aria-labelledby="install-title">
    <h1 id="install-title">Install ${app.title}</h1>
    <p>${app.description ?? ""}</p>
    <form class="install" onSubmit=${onPreview}>
      <${NameField} name=${name} onName=${changed(setName)} />
      <div class="field">
        <label for="app-version">Version</label>
        <select id="app-version" value=${version} onChange=${(event) => changed(setVersion)(event.target.value)}>
          ${app.versions.map((v) => html`<option value=${v}>${v}</option>`)}
        </select>
      </div>
      ${app.parameters.map((parameter) => html`<${Field} key=${parameter.key} parameter=${parameter}
        value=${values[parameter.key] ?? ""}
        onChange=${changed((value) => setValues((current) => ({ ...current, [parameter.key]: value })))} />`)}
      <button type="submit" disabled=${busy}>Preview</button>
    </form>
    <${ErrorText} message=${error} />
    ${preview ? html`<${Preview} preview=${preview} busy=${busy} onConfirm=${onInstall} />` : null}
  </section>`;
}

/** The new app's name: the compose project's too. */
export function NameField({ name, onName }) {
  return html`<div class="field">
    <label for="app-name">Name *</label>
    <input id="app-name" required pattern="[a-z][a-z0-9\\-]{1,30}" value=${name}
      onInput=${(event) => onName(event.target.value)} />
    <small class="muted">lowercase letters, digits and dashes; becomes the compose project</small>
  </div>`;
}

/** previewInstall's answer: the host access warnings and the compose project, then Confirm. */
export function Preview({ preview, busy, onConfirm }) {
  return html`<section class="preview" aria-labelledby="preview-title">
    <h2 id="preview-title">Preview</h2>
    ${preview.warnings.length
      ? html`<p>This app reaches the host:</p><ul class="warnings" aria-label="Warnings">
          ${preview.warnings.map((warning) => html`<li>${warning}</li>`)}</ul>`
      : html`<p>No host access warnings.</p>`}
    <details><summary>The compose project</summary><pre>${preview.compose}</pre></details>
    <button type="button" class="primary" disabled=${busy} onClick=${onConfirm}>Confirm install</button>
  </section>`;
}
