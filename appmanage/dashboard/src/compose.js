// An operator's own compose apps: installing from a pasted compose file (and .env) with the
// same preview as a catalog app, and a custom app's files in an editable form that submits
// editApp and follows its job (a failed edit rolls back: the kept files come back in the form).
import { useContext, useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { APP_COMPOSE, EDIT_APP } from "./documents.js";
import { NameField, Preview, useInstall } from "./install.js";
import { JobView } from "./job.js";
import { acceptedJob, ErrorText, html, RoleContext, useMayOperate } from "./ui.js";

const MASK = "********"; // the API's mask of a secret value (catalog/secrets.py)

function FilesFields({ compose, env, onCompose, onEnv, readOnly = false, envReadOnly = false }) {
  return html`<div class="field">
      <label for="compose-file">Compose file *</label>
      <textarea id="compose-file" class="code" rows="14" required spellcheck="false" readOnly=${readOnly}
        value=${compose} onInput=${(event) => onCompose(event.target.value)}></textarea>
    </div>
    <div class="field">
      <label for="env-file">.env (optional)</label>
      <textarea id="env-file" class="code" rows="5" spellcheck="false" readOnly=${readOnly || envReadOnly}
        value=${env} onInput=${(event) => onEnv(event.target.value)}></textarea>
    </div>`;
}

export function ComposeInstallPage() {
  const [name, setName] = useState("");
  const [compose, setCompose] = useState("");
  const [env, setEnv] = useState("");
  const { preview, error, busy, jobId, changed, onPreview, onInstall } = useInstall(
    () => ({ name, compose, env: env === "" ? null : env }));

  if (jobId) return html`<h1>Installing ${name}</h1><${JobView} id=${jobId} withApp=${true} />`;
  return html`<section aria-labelledby="compose-install-title">
    <h1 id="compose-install-title">Install from a compose file</h1>
    <p>Your file is kept byte for byte; AppManage adds its labels in an override file of its own.</p>
    <form class="install" onSubmit=${onPreview}>
      <${NameField} name=${name} onName=${changed(setName)} />
      <${FilesFields} compose=${compose} env=${env} onCompose=${changed(setCompose)} onEnv=${changed(setEnv)} />
      <button type="submit" disabled=${busy}>Preview</button>
    </form>
    <${ErrorText} message=${error} />
    ${preview ? html`<${Preview} preview=${preview} busy=${busy} onConfirm=${onInstall} />` : null}
  </section>`;
}

/** A custom app's kept files; editable (editApp) when the caller may operate and the app's
 * status allows EDIT. Below ADMIN the .env comes masked, so only an ADMIN may change it. */
export function ComposeFiles({ app }) {
  const mayOperate = useMayOperate();
  const admin = useContext(RoleContext) === "ADMIN";
  const [kept, setKept] = useState(null);
  const [compose, setCompose] = useState("");
  const [env, setEnv] = useState("");
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [jobId, setJobId] = useState(null);
  const [running, setRunning] = useState(false);

  const load = () => request(APP_COMPOSE, { name: app.name })
    .then(({ app: read }) => {
      const files = read?.compose ?? null;
      setKept(files);
      setCompose(files?.compose ?? "");
      setEnv(files?.env ?? "");
    })
    .catch((failure) => setError(failure.message));
  useEffect(() => { load(); }, [app.name]);

  const masked = !admin && (kept?.env ?? "").includes(MASK);
  const editable = mayOperate && app.availableActions.includes("EDIT") && !running;
  async function save(event) {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      const { editApp } = await request(EDIT_APP, { name: app.name, compose, env: env === "" ? null : env });
      setJobId(acceptedJob(editApp));
      setRunning(true);
    } catch (failure) {
      setError(failure.message);
    }
  }
  const ended = (job) => {
    setRunning(false);
    setNotice(job.state === "SUCCEEDED"
      ? "The new files are in place."
      : `The edit ${job.state.toLowerCase()}: the form shows the files the app keeps.`);
    load();
  };

  if (!kept) return html`<${ErrorText} message=${error} />`;
  return html`<section aria-labelledby="compose-title">
    <h2 id="compose-title">Compose files</h2>
    <form class="compose" aria-label="Compose files" onSubmit=${save}>
      <${FilesFields} compose=${compose} env=${env} onCompose=${setCompose} onEnv=${setEnv}
        readOnly=${!editable} envReadOnly=${masked} />
      ${masked ? html`<small class="muted">secret values are masked: only an ADMIN sees and changes the .env</small>` : null}
      ${editable ? html`<button type="submit" disabled=${masked}>Save and recreate</button>` : null}
    </form>
    <${ErrorText} message=${error} />
    ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
    ${jobId ? html`<${JobView} key=${jobId} id=${jobId} onEnd=${ended} />` : null}
  </section>`;
}
