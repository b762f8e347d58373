/**
 * The two HTML documents of the live page — the login form and the page shell the bundle draws
 * into — and the headers every /ui/ response carries. No inline script or style anywhere, so
 * the Content-Security-Policy can forbid both.
 */

/**
 * Scripts, styles and connections from this origin only; nothing inline, no frames, no plugins,
 * forms post only here. Preact sets element styles through the CSSOM, which `style-src` does not
 * govern, so no 'unsafe-inline' is needed.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // same-origin, not no-referrer: with no-referrer Chrome sends `Origin: null` on form posts,
  // and the origin check below needs the real one. Nothing leaks to other sites either way.
  "Referrer-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** The login form: the cluster's token, posted to /ui/login. */
export function loginPage(message?: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth — sign in</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml">
</head>
<body class="login-body">
<main class="login">
  <h1><span class="logo" aria-hidden="true"></span>Berth</h1>
  <p>This page shows the cluster live. Open it with the link <code>berth dashboard</code> prints, or sign in with the cluster's token (the <code>token</code> file in the cluster's home).</p>
  ${message ? `<p class="login-error" role="alert">${escapeHtml(message)}</p>` : ""}
  <form method="post" action="/ui/login">
    <label for="token">Cluster token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Sign in</button>
  </form>
</main>
</body>
</html>
`;
}

/** The page shell; the bundle renders into #app and reads the CSRF token from the meta tag. */
export function appPage(csrf: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="berth-csrf" content="${escapeHtml(csrf)}">
<title>Berth — cluster</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml">
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Connecting to the cluster…</p></div>
</body>
</html>
`;
}
