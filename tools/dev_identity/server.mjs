// Local OpenID provider for development and tests. NOT for production.
//
// oauth2-mock-server (a maintained package) does the protocol: discovery, JWKS, authorize (no login form),
// token endpoint with PKCE. This file only shapes its tokens like Microsoft Entra ID v2.0 tokens, so the function
// verifies them exactly as it verifies Entra's. Usage: node server.mjs <config.json>
// The config file is written by tools/dev_identity/__init__.py; it prints one JSON line when ready.
//
// External ID mode (config.tokenIssuer set): like Entra External ID, the metadata's `issuer` and the tokens'
// `iss` name another host than the authority (External ID: authority <subdomain>.ciamlogin.com, issuer
// <tenant-id>.ciamlogin.com), while every endpoint stays on the authority's host.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { HttpServer, OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const apiPrefix = `api://${config.apiClientId}/`;
const graphAppId = '00000003-0000-0000-c000-000000000000';
const users = config.users;
const userForCode = new Map();
const userForRefreshToken = new Map();

const tokenIssuer = config.tokenIssuer ?? null;
const WELL_KNOWN = '/.well-known/openid-configuration';

// The library's service behind our own listener (what OAuth2Server does), so that External ID mode can rename
// the issuer in the discovery document without touching its endpoints.
const issuer = new OAuth2Issuer();
const service = new OAuth2Service(issuer);
await issuer.keys.generate('RS256');
const tls = config.certFile ? { key: readFileSync(config.keyFile), cert: readFileSync(config.certFile) } : undefined;
const server = new HttpServer((req, res) => {
  if (tokenIssuer && req.method === 'GET' && (req.url ?? '').split('?')[0] === WELL_KNOWN) renameIssuer(res);
  service.requestHandler(req, res);
}, tls);

/** Replaces `issuer` in the discovery document the library is about to send. */
function renameIssuer(res) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    if (res.statusCode !== 200 || chunk === undefined) return end(chunk, ...rest);
    const document = JSON.parse(Buffer.from(chunk).toString('utf8'));
    const body = JSON.stringify({ ...document, issuer: tokenIssuer });
    res.removeHeader('ETag');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    return end(body);
  };
}

function userFromRequest(req) {
  const body = req.body ?? {};
  const name =
    (body.grant_type === 'password' && body.username) ||
    (body.grant_type === 'authorization_code' && userForCode.get(body.code)) ||
    (body.grant_type === 'refresh_token' && userForRefreshToken.get(body.refresh_token)) ||
    config.defaultUser;
  return users[name] ? { username: name, ...users[name] } : null;
}

function clientId(req) {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    return Buffer.from(header.slice(6), 'base64').toString().split(':')[0];
  }
  return req.body?.client_id ?? config.spaClientId;
}

function userClaims(user, tenantId) {
  return {
    tid: tenantId,
    oid: user.oid,
    sub: user.oid.replaceAll('-', ''),
    name: user.name,
    preferred_username: user.username,
    ...(user.claims ?? {}),
  };
}

// Development only: the password grant takes `expires_in` (seconds, -3600..lifetime) so that expiry can be tried:
// `expires_in=-120` gives a token that expired two minutes ago (beyond the function's 60 s clock skew).
const EXPIRES_IN_PATTERN = /^-?\d{1,5}$/;

function requestedLifetime(req) {
  const asked = req.body?.grant_type === 'password' ? String(req.body?.expires_in ?? '') : '';
  if (!EXPIRES_IN_PATTERN.test(asked)) return config.accessTokenLifetimeSeconds;
  return Math.max(-3600, Math.min(Number(asked), config.accessTokenLifetimeSeconds));
}

service.on('beforeAuthorizeRedirect', (redirect, req) => {
  // Remember who "signed in" for this code: login_hint picks a configured user, else the default one.
  const code = redirect.url.searchParams.get('code');
  const hint = typeof req.query.login_hint === 'string' ? req.query.login_hint : '';
  if (code) userForCode.set(code, users[hint] ? hint : config.defaultUser);
});

service.on('beforeTokenSigning', (token, req) => {
  const payload = token.payload;
  if (tokenIssuer) payload.iss = tokenIssuer;
  const now = Math.floor(Date.now() / 1000);
  const isAccessToken = 'scope' in payload; // the library sets `scope` on access tokens only
  const lifetime = isAccessToken ? requestedLifetime(req) : config.accessTokenLifetimeSeconds;
  const user = userFromRequest(req);
  const tenantId = user?.tenantId ?? config.tenantId;
  // A token that expired in the past was issued before that (exp > iat, as Entra's always are).
  const issued = lifetime > 0 ? now : now + lifetime - 60;
  Object.assign(payload, { iat: issued, nbf: issued, exp: now + lifetime, ver: '2.0', uti: randomUUID() });
  delete payload.amr;
  if (!isAccessToken) {
    // ID token: for the SPA itself (the library already set aud = client id and the nonce).
    if (user) Object.assign(payload, userClaims(user, tenantId));
    return;
  }
  const requested = String(payload.scope ?? '').split(' ').filter(Boolean);
  delete payload.scope;
  const apiScopes = requested.filter((s) => s.startsWith(apiPrefix)).map((s) => s.slice(apiPrefix.length));
  payload.aud = apiScopes.length ? config.apiClientId : graphAppId;
  payload.azp = clientId(req);
  payload.azpacr = '0';
  if (req.body?.grant_type === 'client_credentials' || !user) {
    // App-only token: no scp, idtyp=app, like Entra's client-credentials tokens.
    Object.assign(payload, { tid: tenantId, oid: randomUUID(), sub: payload.azp, idtyp: 'app', roles: [] });
    return;
  }
  Object.assign(payload, userClaims(user, tenantId));
  payload.scp = apiScopes.length ? apiScopes.join(' ') : requested.join(' ');
});

service.on('beforeResponse', (response, req) => {
  const refresh = response.body?.refresh_token;
  const user = userFromRequest(req);
  if (refresh && user) userForRefreshToken.set(refresh, user.username);
  if (response.body && typeof response.body === 'object' && response.statusCode === 200) {
    response.body.expires_in = requestedLifetime(req);
  }
});

const host = config.host ?? '127.0.0.1';
await server.start(config.port ?? 0, host);
issuer.url = server.buildIssuerUrl(host, server.address().port);
// `issuer` is the authority (where the metadata is); `tokenIssuer` what tokens name, when it differs.
console.log(JSON.stringify({ event: 'ready', issuer: issuer.url, tokenIssuer: tokenIssuer ?? issuer.url }));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await server.stop();
    process.exit(0);
  });
}
