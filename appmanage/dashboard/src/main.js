// The dashboard's shell: the token form, the role probe, the navigation and the hash router
// (#/apps, #/install, #/install/NAME, #/compose, #/app/NAME, #/job/ID), so a reload keeps the page.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { disconnect, probeRole, token } from "./api.js";
import { AppPage } from "./app-page.js";
import { AppsPage } from "./apps.js";
import { ComposeInstallPage } from "./compose.js";
import { CatalogPage, InstallPage } from "./install.js";
import { JobPage } from "./job.js";
import { ErrorText, html, RoleContext } from "./ui.js";

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function route(hash) {
  const [, page = "apps", arg] = hash.replace(/^#/, "").split("/").map(decodeURIComponent);
  if (page === "install" && arg) return html`<${InstallPage} key=${arg} catalogName=${arg} />`;
  if (page === "install") return html`<${CatalogPage} />`;
  if (page === "compose") return html`<${ComposeInstallPage} />`;
  if (page === "app" && arg) return html`<${AppPage} key=${arg} name=${arg} />`;
  if (page === "job" && arg) return html`<${JobPage} key=${arg} id=${arg} />`;
  return html`<${AppsPage} />`;
}

function TokenForm({ error, onToken }) {
  const [value, setValue] = useState("");
  return html`<main class="signin">
    <h1>AppManage</h1>
    <form onSubmit=${(event) => { event.preventDefault(); if (value.trim()) onToken(value.trim()); }}>
      <label for="token">Token</label>
      <input id="token" type="password" autocomplete="off" autofocus value=${value}
        onInput=${(event) => setValue(event.target.value)} />
      <p class="muted">Kept in this tab only (session storage). Press Enter to sign in.</p>
    </form>
    <${ErrorText} message=${error} />
  </main>`;
}

function Dashboard() {
  const [role, setRole] = useState(null);
  const [error, setError] = useState(null);
  const hash = useHash();

  const signIn = async () => {
    try {
      setRole(await probeRole());
      setError(null);
    } catch (failure) {
      token.clear();
      setRole(null);
      setError(failure.message);
    }
  };
  useEffect(() => { if (token.get()) signIn(); }, []);
  const signOut = () => { token.clear(); disconnect(); setRole(null); };

  if (!role) {
    return token.get() && !error
      ? html`<p aria-busy="true">Signing in…</p>`
      : html`<${TokenForm} error=${error} onToken=${(value) => { token.set(value); setError(null); signIn(); }} />`;
  }
  const current = hash.replace(/^#\//, "").split("/")[0] || "apps";
  return html`<${RoleContext.Provider} value=${role}>
    <header>
      <nav aria-label="Main">
        <strong>AppManage</strong>
        <a href="#/apps" aria-current=${current === "apps" ? "page" : undefined}>Apps</a>
        <a href="#/install" aria-current=${["install", "compose"].includes(current) ? "page" : undefined}>Install</a>
        <a href="graphql">GraphiQL</a>
      </nav>
      <span class="muted">${role}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main>${route(hash)}</main>
  </${RoleContext.Provider}>`;
}

render(html`<${Dashboard} />`, document.getElementById("dashboard"));
