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
    // The log is read once and followed live; the two overlap by a few lines (a line may be
    // stored before or after it is published), so a live line the read already had is dropped.
    let early = []; // live lines that came before the read answered; null once it did
    const unseen = new Map(); // the read's last lines, by text, not yet met live
    const arrived = (line) => {
      const count = unseen.get(line) ?? 0;
      if (count) unseen.set(line, count - 1);
      else setLog((lines) => [...lines, line]);
    };
    const unsubscribe = subscribe(JOB_UPDATES, { id }, ({ jobUpdated }) => {
      setJob(jobUpdated.job);
      if (jobUpdated.line == null) return;
      if (early) early.push(jobUpdated.line);
      else arrived(jobUpdated.line);
    }, setError);
    request(JOB_LOG, { id })
      .then(({ job: read }) => {
        if (!read) throw new Error(`no job has the id ${id}`);
        for (const line of read.log.slice(-200)) unseen.set(line, (unseen.get(line) ?? 0) + 1);
        setLog(read.log);
        setJob((live) => live ?? read);
        const pending = early;
        early = null;
        pending.forEach(arrived);
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

/** `onEnd(job)` is called once, when the job has ended. */
export function JobView({ id, withApp = false, onEnd = null }) {
  const { job, log, error } = useLiveJob(id);
  const mayOperate = useMayOperate();
  const [cancelError, setCancelError] = useState(null);
  const logBox = useRef(null);
  const endSeen = useRef(false);
  useEffect(() => stickToEnd(logBox.current), [log.length]);
  useEffect(() => {
    if (!job || UNFINISHED.includes(job.state) || endSeen.current) return;
    endSeen.current = true;
    onEnd?.(job);
  }, [job?.state]);

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
