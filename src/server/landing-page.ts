/** What `/` shows until the dashboard is built: honest status, no numbers that are not real. */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kerma</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#111}code{background:#f2f2f2;padding:0 .25rem}</style>
</head><body>
<h1>Kerma is running</h1>
<p>The web dashboard is not built yet. Until it is, read the data through the API with your workspace secret key:</p>
<ul>
<li><code>GET /api/contacts</code> — contacts with first and last touch</li>
<li><code>GET /api/contacts/:id</code> — a contact with its events and stage history; <code>/score</code> explains its score</li>
<li><code>GET /api/reports/traffic?by=channel</code> — daily new visitors, sessions, page views, new contacts</li>
<li><code>GET /api/deliveries</code> — what triggers sent to webhooks and by email</li>
<li><a href="/openapi.json">/openapi.json</a> — the full API description</li>
<li><a href="/healthz">/healthz</a> and <a href="/metrics">/metrics</a></li>
</ul>
</body></html>`;
}
