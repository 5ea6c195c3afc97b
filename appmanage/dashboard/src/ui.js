// Small pieces every page uses: htm bound to Preact, the error line, status text, and the
// buttons that follow an app's availableActions.
import { createContext, h } from "preact";
import { useContext, useState } from "preact/hooks";
import htm from "htm";
import { request } from "./api.js";
import { ACTIONS } from "./documents.js";

export const html = htm.bind(h);

/** The caller's role ("VIEWER", "OPERATOR" or "ADMIN"), probed once after sign-in. */
export const RoleContext = createContext("VIEWER");
export const useMayOperate = () => useContext(RoleContext) !== "VIEWER";

const LABELS = { START: "Start", STOP: "Stop", RESTART: "Restart", REDEPLOY: "Redeploy", UNINSTALL: "Uninstall" };

export function ErrorText({ message }) {
  return message ? html`<p class="error" role="alert">${message}</p>` : null;
}

export function Status({ status, reason }) {
  return html`<span class=${`status status-${status.toLowerCase()}`}>${status}</span>
    ${reason ? html` <span class="reason">${reason}</span>` : null}`;
}

/** Keeps a log box scrolled to its end while new lines come (the page itself stays put). */
export function stickToEnd(box) {
  if (box) box.scrollTop = box.scrollHeight;
}

export function time(value) {
  return value ? new Date(value).toLocaleString() : "";
}

/** `result` is a mutation's union answer: its job id, or the API's message as an Error. */
export function acceptedJob(result) {
  if (result.__typename === "JobAccepted") return result.job.id;
  throw new Error(result.message ?? result.__typename);
}

/** One button per action the app allows now (none for a VIEWER); each runs its mutation. */
export function ActionButtons({ app, onDone = () => {} }) {
  const mayOperate = useMayOperate();
  const [busy, setBusy] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  if (!mayOperate) return null;

  async function run(action) {
    setBusy(action);
    setError(null);
    setConfirming(false);
    try {
      const data = await request(ACTIONS[action], { name: app.name });
      onDone(acceptedJob(Object.values(data)[0]));
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(null);
    }
  }

  const actions = app.availableActions.filter((action) => action in LABELS);
  return html`<div class="actions">
    ${actions.map((action) =>
      action === "UNINSTALL" && !confirming
        ? html`<button type="button" class="danger" disabled=${busy} onClick=${() => setConfirming(true)}>Uninstall</button>`
        : action === "UNINSTALL"
          ? html`<button type="button" class="danger" onClick=${() => run(action)}>Confirm uninstall</button>
              <button type="button" onClick=${() => setConfirming(false)}>Keep</button>`
          : html`<button type="button" disabled=${busy} onClick=${() => run(action)}>${LABELS[action]}</button>`,
    )}
    <${ErrorText} message=${error} />
  </div>`;
}
