// The campaign page's review queue: contacts whose last call's outcome is unknown (the carrier timed
// out after the call was sent), paged from GET /v1/campaigns/{id}/contacts?state=review. A supervisor
// resolves each one: done with a disposition, requeue (the server never dials it while its last call
// could still be live, and says from when), or do-not-call.
import { useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { html } from '../html.js';
import { can, ErrorBox, fmtTime, useLoad } from '../ui.js';

const PAGE = 20;

function ResolveRow({ id, contact, actor, onResolved }) {
  const [disposition, setDisposition] = useState('reviewed');
  const [error, setError] = useState(null);
  const resolve = async (action) => {
    setError(null);
    try {
      const r = await api(`/campaigns/${encodeURIComponent(id)}/contacts/${encodeURIComponent(contact.id)}/resolve`, { method: 'POST', body: action === 'done' ? { action, disposition } : { action } });
      onResolved(contact, action, r);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<tr data-testid="review-row">
    <td>${contact.phone}</td><td>${contact.name ?? '–'}</td><td>${contact.attempts}</td><td>${contact.lastOutcome ?? '–'}</td><td>${fmtTime(contact.updatedAt)}</td>
    <td>${can(actor, 'supervisor') ? html`<div class="actions" role="group" aria-label=${`Resolve ${contact.phone}`}>
      <input aria-label="Disposition" value=${disposition} onInput=${(e) => setDisposition(e.currentTarget.value)} size="12" />
      <button onClick=${() => resolve('done')}>Mark done</button>
      <button onClick=${() => resolve('requeue')}>Requeue</button>
      <button onClick=${() => resolve('do-not-call')}>Do not call</button>
    </div>` : null}
    ${error && html`<div class="error" role="alert">${error}</div>`}</td>
  </tr>`;
}

export function ReviewQueue({ id, actor }) {
  // Cursors of the pages seen so far: [undefined] is the first page.
  const [cursors, setCursors] = useState([undefined]);
  const [done, setDone] = useState(null);
  const cursor = cursors[cursors.length - 1];
  const { data, error, reload } = useLoad(() => api(`/campaigns/${encodeURIComponent(id)}/contacts${qs({ state: 'review', limit: PAGE, cursor })}`), [id, cursor]);
  const contacts = data?.contacts ?? [];
  const onResolved = (contact, action, r) => {
    const when = action === 'requeue' ? ` (next dial ${fmtTime(r.contact.nextAttemptAt)})` : '';
    setDone(`${contact.phone}: ${action}${when}`);
    reload();
  };
  return html`<section aria-labelledby="review-h"><h2 id="review-h">Needs review</h2>
    <p class="muted">Calls whose outcome is unknown are never redialed on their own.</p>
    <${ErrorBox} error=${error} />
    ${done && html`<div class="ok" role="status" data-testid="review-done">${done}</div>`}
    ${data && contacts.length === 0 ? html`<p class="muted" data-testid="review-empty">No contact needs review.</p>` : null}
    ${contacts.length ? html`<div class="table-wrap"><table aria-label="Contacts in review"><thead><tr><th>Phone</th><th>Name</th><th>Attempts</th><th>Last outcome</th><th>Since</th><th></th></tr></thead><tbody>
      ${contacts.map((c) => html`<${ResolveRow} key=${c.id} id=${id} contact=${c} actor=${actor} onResolved=${onResolved} />`)}
    </tbody></table></div>` : null}
    <div class="actions">
      ${cursors.length > 1 ? html`<button onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>` : null}
      ${data?.nextCursor ? html`<button onClick=${() => setCursors([...cursors, data.nextCursor])}>Next page</button>` : null}
    </div>
  </section>`;
}
