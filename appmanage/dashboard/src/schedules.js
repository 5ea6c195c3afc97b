// An app's schedules: the list with each one's next and last run, and for an OPERATOR a form
// to add one (kind and a five-field cron, in UTC) and a "Remove" button per schedule.
import { useEffect, useState } from "preact/hooks";
import { request } from "./api.js";
import { SCHEDULE_JOB, SCHEDULES, UNSCHEDULE_JOB } from "./documents.js";
import { ErrorText, html, time, useMayOperate } from "./ui.js";

const KINDS = ["BACKUP", "RESTART", "UPDATE"];

/** The mutation's answer, or an Error with the API's message when it is an error type. */
async function mutate(document, variables) {
  const answer = Object.values(await request(document, variables))[0];
  if (answer.message !== undefined) throw new Error(answer.message);
  return answer;
}

function AddSchedule({ app, onAdded }) {
  const [kind, setKind] = useState("BACKUP");
  const [cron, setCron] = useState("30 3 * * *");
  const [error, setError] = useState(null);
  async function add(event) {
    event.preventDefault();
    setError(null);
    try {
      await mutate(SCHEDULE_JOB, { app, kind, cron: cron.trim() });
      onAdded();
    } catch (failure) {
      setError(failure.message);
    }
  }
  return html`<form class="schedule" onSubmit=${add}>
    <label>Kind <select value=${kind} onChange=${(event) => setKind(event.target.value)}>
      ${KINDS.map((k) => html`<option value=${k}>${k.toLowerCase()}</option>`)}
    </select></label>
    <label>Cron (UTC) <input value=${cron} required size="14" onInput=${(event) => setCron(event.target.value)} /></label>
    <button type="submit">Add schedule</button>
    <small>minute hour day month weekday: "30 3 * * *" is 03:30 UTC daily</small>
    <${ErrorText} message=${error} />
  </form>`;
}

export function Schedules({ app }) {
  const mayOperate = useMayOperate();
  const [schedules, setSchedules] = useState(null);
  const [error, setError] = useState(null);
  const reload = () => request(SCHEDULES, { app })
    .then(({ schedules: found }) => setSchedules(found))
    .catch((failure) => setError(failure.message));
  useEffect(() => { reload(); }, [app]);

  async function remove(id) {
    setError(null);
    try {
      await mutate(UNSCHEDULE_JOB, { id });
      reload();
    } catch (failure) {
      setError(failure.message);
    }
  }

  return html`<section aria-labelledby="schedules-title">
    <h2 id="schedules-title">Schedules</h2>
    <${ErrorText} message=${error} />
    ${schedules === null ? html`<p aria-busy="true">Loading schedules…</p>`
      : schedules.length === 0 ? html`<p>No schedules.</p>`
      : html`<table aria-label="Schedules">
          <thead><tr><th>Kind</th><th>Cron (UTC)</th><th>Next run</th><th>Last run</th><th>Last job</th>${mayOperate ? html`<th></th>` : null}</tr></thead>
          <tbody>${schedules.map((s) => html`<tr key=${s.id}>
            <th scope="row">${s.kind}</th><td><code>${s.cron}</code></td><td>${time(s.nextRunAt)}</td><td>${time(s.lastRunAt)}</td>
            <td>${s.lastJob ? html`<a href=${`#/job/${s.lastJob.id}`}>${s.lastJob.state}</a>` : ""}${s.lastError ? html` <span class="reason">${s.lastError}</span>` : ""}</td>
            ${mayOperate ? html`<td><button type="button" onClick=${() => remove(s.id)} aria-label=${`Remove ${s.kind.toLowerCase()} at ${s.cron}`}>Remove</button></td>` : null}
          </tr>`)}</tbody>
        </table>`}
    ${mayOperate ? html`<${AddSchedule} app=${app} onAdded=${reload} />` : null}
  </section>`;
}
