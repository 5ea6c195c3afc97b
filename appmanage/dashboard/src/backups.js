// An app's backups: the list (read again whenever the app's status or job changes), and for
// an OPERATOR "Back up now", and per backup "Restore" (in place, or as a new app) and "Delete",
// each asking for a confirmation; a job they start opens on its page.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { BACKUP_APP, BACKUPS, DELETE_BACKUP, RESTORE_APP } from "./documents.js";
import { bytes } from "./stats.js";
import { acceptedJob, ErrorText, html, time, useMayOperate } from "./ui.js";

function RestoreForm({ app, backup, onJob, onCancel }) {
  const [asName, setAsName] = useState("");
  const [error, setError] = useState(null);
  async function restore(event) {
    event.preventDefault();
    try {
      const { restoreApp } = await request(RESTORE_APP, { name: app, backupId: backup.id, asName: asName.trim() || null });
      onJob(acceptedJob(restoreApp));
    } catch (failure) {
      setError(failure.message);
    }
  }
  return html`<form class="restore" onSubmit=${restore}>
    <label>As a new app <input value=${asName} placeholder="(blank: into ${app})" pattern="[a-z][a-z0-9\\-]{1,30}"
      onInput=${(event) => setAsName(event.target.value)} /></label>
    <button type="submit" class="danger">Confirm restore</button>
    <button type="button" onClick=${onCancel}>Keep</button>
    <${ErrorText} message=${error} />
  </form>`;
}

function BackupRow({ app, backup, onJob, onGone }) {
  const mayOperate = useMayOperate();
  const [asking, setAsking] = useState(null); // "restore" | "delete"
  const [error, setError] = useState(null);
  async function remove() {
    setError(null);
    try {
      const { deleteBackup } = await request(DELETE_BACKUP, { id: backup.id });
      if (deleteBackup.__typename === "BackupDeleted") onGone();
      else onJob(acceptedJob(deleteBackup));
    } catch (failure) {
      setError(failure.message);
    }
  }
  const kind = backup.safetyForJob ? html`safety copy, before <a href=${`#/job/${backup.safetyForJob}`}>a restore</a>` : "backup";
  return html`<tr>
    <th scope="row" title=${backup.id}><code>${backup.id.slice(0, 12)}</code></th>
    <td>${time(backup.createdAt)}</td><td class="number">${bytes(backup.sizeBytes)}</td><td>${backup.version}</td><td>${kind}</td>
    ${mayOperate ? html`<td>
      ${asking === "restore" ? html`<${RestoreForm} app=${app} backup=${backup} onJob=${onJob} onCancel=${() => setAsking(null)} />`
        : asking === "delete" ? html`<div class="actions">
            <button type="button" class="danger" onClick=${remove}>Confirm delete</button>
            <button type="button" onClick=${() => setAsking(null)}>Keep</button></div>`
        : html`<div class="actions">
            <button type="button" onClick=${() => setAsking("restore")}>Restore</button>
            <button type="button" class="danger" onClick=${() => setAsking("delete")}>Delete</button></div>`}
      <${ErrorText} message=${error} />
    </td>` : null}
  </tr>`;
}

export function Backups({ app, onJob }) {
  const mayOperate = useMayOperate();
  const [backups, setBackups] = useState(null);
  const [stop, setStop] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const reload = () => request(BACKUPS, { app: app.name })
    .then(({ backups: found }) => setBackups(found))
    .catch((failure) => setError(failure.message));
  useEffect(() => { reload(); }, [app.name, app.status, app.activeJob?.id]);

  async function backUp() {
    setBusy(true);
    setError(null);
    try {
      const { backupApp } = await request(BACKUP_APP, { name: app.name, stop });
      onJob(acceptedJob(backupApp));
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  }

  return html`<section aria-labelledby="backups-title">
    <h2 id="backups-title">Backups</h2>
    ${mayOperate ? html`<div class="actions">
      <button type="button" disabled=${busy || Boolean(app.activeJob)} onClick=${backUp}>Back up now</button>
      <label><input type="checkbox" checked=${stop} onChange=${(event) => setStop(event.target.checked)} />
        stop the app for the copy (else paused)</label>
    </div>` : null}
    <${ErrorText} message=${error} />
    ${backups === null ? html`<p aria-busy="true">Loading backups…</p>`
      : backups.length === 0 ? html`<p>No backups yet.</p>`
      : html`<table aria-label="Backups">
          <thead><tr><th>Backup</th><th>Taken</th><th>Size</th><th>Version</th><th>Kind</th>${mayOperate ? html`<th>Actions</th>` : null}</tr></thead>
          <tbody>${backups.map((backup) => html`<${BackupRow} key=${backup.id} app=${app.name} backup=${backup}
            onJob=${onJob} onGone=${reload} />`)}</tbody>
        </table>`}
  </section>`;
}
