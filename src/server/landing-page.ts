/** What `/` shows when the dashboard files were not built: how to build them, and where the data is meanwhile. */
export function landingPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kerma</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#111}code{background:#f2f2f2;padding:0 .25rem}</style>
</head><body>
<h1>Kerma is running</h1>
<p>The dashboard files are not built in this copy: run <code>npm run build</code> and restart. Meanwhile the API
answers with your workspace secret key; <a href="/openapi.json">/openapi.json</a> describes it.</p>
</body></html>`;
}
