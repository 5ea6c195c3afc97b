// An app's live figures: the `appStats` subscription, opened while the app's page is shown
// and closed with it (the host's sampler rests when nobody listens), and a sparkline of the
// last hour's per-minute CPU from `statsHistory`.
import { useEffect, useState } from "preact/hooks";
import { request, subscribe } from "./api.js";
import { APP_STATS, STATS_HISTORY } from "./documents.js";
import { ErrorText, html, time } from "./ui.js";

const EVERY_SECONDS = 2;
const HISTORY_MS = 3600_000;

/** Bytes in powers of 1024, as `docker stats` prints them. */
export function bytes(value) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit ? `${value.toFixed(1)} ${units[unit]}` : `${Math.round(value)} B`;
}

const percent = (value) => `${value.toFixed(1)} %`;

function Row({ label, figures, total = false }) {
  const share = figures.memoryLimitBytes > 0 ? ` (${percent((100 * figures.memoryBytes) / figures.memoryLimitBytes)})` : "";
  return html`<tr class=${total ? "total" : undefined}>
    <th scope="row">${label}</th>
    <td class="number">${percent(figures.cpuPercent)}</td>
    <td class="number">${bytes(figures.memoryBytes)} / ${bytes(figures.memoryLimitBytes)}${share}</td>
  </tr>`;
}

function Sparkline({ points }) {
  if (points.length < 2) return html`<p class="muted">The minute averages appear here as they are kept.</p>`;
  const peak = Math.max(...points.map((p) => p.cpuPercent), 1);
  const step = 200 / (points.length - 1);
  const line = points.map((p, i) => `${(i * step).toFixed(1)},${(30 - (28 * p.cpuPercent) / peak).toFixed(1)}`).join(" ");
  const last = points[points.length - 1];
  return html`<figure class="sparkline">
    <svg viewBox="0 0 200 32" width="200" height="32" role="img"
      aria-label=${`CPU per minute, last hour: peak ${percent(peak)}, last ${percent(last.cpuPercent)}`}>
      <polyline points=${line} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
    <figcaption class="muted">CPU per minute, last hour (peak ${percent(peak)})</figcaption>
  </figure>`;
}

export function LiveStats({ name }) {
  const [sample, setSample] = useState(null);
  const [history, setHistory] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => subscribe(APP_STATS, { name, every: EVERY_SECONDS }, ({ appStats }) => setSample(appStats), setError), [name]);
  useEffect(() => {
    const since = new Date(Date.now() - HISTORY_MS).toISOString();
    request(STATS_HISTORY, { name, since })
      .then(({ app }) => setHistory(app?.statsHistory ?? []))
      .catch((failure) => setError(failure.message));
  }, [name]);

  return html`<section aria-labelledby="stats-title">
    <h2 id="stats-title">Resources</h2>
    <${ErrorText} message=${error} />
    ${sample === null
      ? html`<p aria-busy="true">Waiting for the host's sampler…</p>`
      : html`<table class="stats" aria-label="Live stats">
          <thead><tr><th>Service</th><th>CPU</th><th>Memory used / limit</th></tr></thead>
          <tbody>
            ${sample.services.map((service) => html`<${Row} key=${service.name} label=${service.name} figures=${service} />`)}
            <${Row} label="Total" figures=${sample} total=${true} />
          </tbody>
        </table>
        <p class="muted">${sample.containers} containers running · sampled ${time(sample.sampledAt)}</p>`}
    <${Sparkline} points=${history} />
  </section>`;
}
