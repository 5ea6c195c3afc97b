// One job, live: its state, step, progress and log (the `jobUpdated` subscription, the log
// read once and then followed), and the app's status beside it.
import { useEffect, useRef, useState } from "preact/hooks";
import { request, subscribe } from "./api.js";
import { APP_ROW, CANCEL, JOB_LOG, JOB_UPDATES, STATUS_OF } from "./documents.js";
import { ErrorText, html, Status, stickToEnd, time, useMayOperate } from "./ui.js";

const UNFINISHED = ["QUEUED", "RUNNING"];

function useLiveJob(id) {
  const [job, setJob] = useState(null);
  const [log, setLog] = useState([]);
  const [error, setError] = useState(null);

  useEffect(() => {
    let early = []; // lines that came while the log was being read; null once it was
    const unsubscribe = subscribe(JOB_UPDATES, { id }, ({ jobUpdated }) => {
      setJob(jobUpdated.job);
      if (jobUpdated.line == null) return;
      if (early) early.push(jobUpdated.line);
      else setLog((lines) => [...lines, jobUpdated.line]);
    }, setError);
    request(JOB_LOG, { id })
      .then(({ job: read }) => {
        if (!read) throw new Error(`no job has the id ${id}`);
        const known = new Set(read.log.slice(-early.length - 50));
        setLog([...read.log, ...early.filter((line) => !known.has(line))]);
        setJob((live) => live ?? read);
        early = null;
      })
      .catch((failure) => setError(failure.message));
    return unsubscribe;
  }, [id]);
  return { job, log, error };
}

export function AppStatusLive({ name }) {
  const [app, setApp] = useState(null);
  useEffect(() => {
    request(APP_ROW, { name }).then(({ app: row }) => setApp((live) => live ?? row)).catch(() => {});
    return subscribe(STATUS_OF, { name }, ({ appStatusChanged: event }) =>
      setApp(event.removed ? { status: "UNKNOWN", statusReason: "removed" } : event),
    );
  }, [name]);
  return app
    ? html`<p class="app-status">App <a href=${`#/app/${encodeURIComponent(name)}`}>${name}</a>:
        <${Status} status=${app.status} reason=${app.statusReason} /></p>`
    : null;
}

export function JobView({ id, withApp = false }) {
  const { job, log, error } = useLiveJob(id);
  const mayOperate = useMayOperate();
  const [cancelError, setCancelError] = useState(null);
  const logBox = useRef(null);
  useEffect(() => stickToEnd(logBox.current), [log.length]);

  async function cancel() {
    try {
      const { cancelJob } = await request(CANCEL, { id });
      setCancelError(cancelJob.__typename === "JobCanceled" ? null : cancelJob.message);
    } catch (failure) {
      setCancelError(failure.message);
    }
  }

  if (!job) return html`<${ErrorText} message=${error} /><p aria-busy="true">Loading job…</p>`;
  const running = UNFINISHED.includes(job.state);
  return html`<section class="job" aria-label=${`Job ${job.kind} of ${job.app}`}>
    <h2>${job.kind} ${job.app}: <span class=${`job-state state-${job.state.toLowerCase()}`}>${job.state}</span></h2>
    ${withApp ? html`<${AppStatusLive} name=${job.app} />` : null}
    <p>${job.step ?? ""}</p>
    ${running ? html`<progress max="1" value=${job.progress ?? undefined} aria-label="Progress"></progress>` : null}
    ${job.error ? html`<p class="error job-error" role="alert">${job.error}</p>` : null}
    <${ErrorText} message=${error ?? cancelError} />
    ${running && mayOperate ? html`<button type="button" onClick=${cancel}>Cancel job</button>` : null}
    <p class="muted">Started ${time(job.startedAt || job.createdAt)}${job.finishedAt ? `, finished ${time(job.finishedAt)}` : ""}</p>
    <pre class="log" aria-label="Job log" ref=${logBox}>${log.join("\n")}</pre>
  </section>`;
}

export function JobPage({ id }) {
  return html`<h1>Job</h1><${JobView} id=${id} withApp=${true} />`;
}
