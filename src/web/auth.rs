// SPDX-License-Identifier: GPL-2.0-or-later
//! Who is asking: a bearer token from `[[http.token]]`, or a browser
//! session signed in with one.
//!
//! - `Authorization: Bearer <token>`: compared in constant time with every
//!   configured token (scripts, wall screens). No CSRF token needed: a
//!   browser never adds that header by itself.
//! - `POST /api/v1/session {"token": "..."}` sets the cookie
//!   `hotline_session` (HttpOnly, SameSite=Strict, Path=/, Secure over TLS)
//!   and `hotline_csrf` (readable by the page). Sessions live in memory
//!   and expire; a state-changing request carried by the cookie must repeat
//!   the CSRF token in `X-CSRF-Token`.
//!
//! The result is a [`Principal`]: a role and a scope (its agent, its
//! queues), checked by each route.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::api::{ApiError, AppState};
use crate::core::config::{HttpToken, Role};

pub const SESSION_COOKIE: &str = "hotline_session";
pub const CSRF_COOKIE: &str = "hotline_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions held at once (memory bound): expired ones are dropped first.
const MAX_SESSIONS: usize = 4096;

/// An authenticated caller.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Principal {
    /// The token's label (for logs).
    pub name: String,
    pub role: Role,
    /// Role agent: which agent it is.
    pub agent: Option<String>,
    /// Supervisor or viewer: its queues (empty: all).
    pub queues: Vec<String>,
    /// Signed in by cookie (then writes need the CSRF token), not bearer.
    #[serde(skip)]
    pub session: Option<String>,
}

impl Principal {
    fn of(t: &HttpToken, session: Option<String>) -> Principal {
        Principal { name: t.name.clone(), role: t.role, agent: t.agent.clone(), queues: t.queues.clone(), session }
    }
}

struct Session {
    token: usize,
    csrf: String,
    expires: Instant,
}

/// Tokens and browser sessions.
pub(crate) struct Auth {
    tokens: Vec<HttpToken>,
    sessions: Mutex<HashMap<String, Session>>,
    /// Served over TLS: cookies get `Secure`.
    secure: bool,
}

/// A signed-in browser session.
pub(crate) struct SignedIn {
    pub principal: Principal,
    pub csrf: String,
    pub cookies: [HeaderValue; 2],
}

impl Auth {
    pub fn new(tokens: Vec<HttpToken>, secure: bool) -> Auth {
        Auth { tokens, sessions: Mutex::new(HashMap::new()), secure }
    }

    /// The configured token equal to `given`. Every token is compared, in
    /// constant time for equal lengths, so timing tells nothing of which
    /// or how much matched.
    fn token(&self, given: &str) -> Option<usize> {
        let mut found = None;
        for (i, t) in self.tokens.iter().enumerate() {
            let eq: bool = t.token.as_bytes().ct_eq(given.as_bytes()).into();
            if eq && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open a session for a valid token.
    pub fn sign_in(&self, token: &str) -> Result<SignedIn, ApiError> {
        let i = self.token(token).ok_or_else(|| ApiError::unauthorized("unknown token"))?;
        let (id, csrf) = (random_id()?, random_id()?);
        let now = Instant::now();
        {
            let mut sessions = self.sessions();
            if sessions.len() >= MAX_SESSIONS {
                sessions.retain(|_, s| s.expires > now);
            }
            if sessions.len() >= MAX_SESSIONS {
                return Err(ApiError::unavailable("too many open sessions; try again later"));
            }
            sessions.insert(id.clone(), Session { token: i, csrf: csrf.clone(), expires: now + SESSION_TTL });
        }
        let age = SESSION_TTL.as_secs();
        let cookies = [
            self.cookie(&format!("{SESSION_COOKIE}={id}; HttpOnly"), age),
            self.cookie(&format!("{CSRF_COOKIE}={csrf}"), age),
        ];
        Ok(SignedIn { principal: Principal::of(&self.tokens[i], Some(id)), csrf, cookies })
    }

    /// Close a session; the cookies that clear it in the browser.
    pub fn sign_out(&self, session: Option<&str>) -> [HeaderValue; 2] {
        if let Some(id) = session {
            self.sessions().remove(id);
        }
        [self.cookie(&format!("{SESSION_COOKIE}=; HttpOnly"), 0), self.cookie(&format!("{CSRF_COOKIE}="), 0)]
    }

    fn cookie(&self, start: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        // Ids are hex: always a valid header value.
        HeaderValue::from_str(&format!("{start}; SameSite=Strict; Path=/; Max-Age={max_age}{secure}")).unwrap_or(HeaderValue::from_static(""))
    }

    /// The principal behind a request's credentials.
    fn principal(&self, method: &Method, headers: &HeaderMap) -> Result<Principal, ApiError> {
        if let Some(v) = headers.get(AUTHORIZATION) {
            let v = v.to_str().unwrap_or("");
            let token = match v.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
                _ => return Err(ApiError::unauthorized("Authorization must be \"Bearer <token>\"")),
            };
            let i = self.token(token).ok_or_else(|| ApiError::unauthorized("unknown token"))?;
            return Ok(Principal::of(&self.tokens[i], None));
        }
        let Some(id) = cookie(headers, SESSION_COOKIE) else {
            return Err(ApiError::unauthorized("no credentials: send \"Authorization: Bearer <token>\" or sign in"));
        };
        let (token, csrf) = {
            let mut sessions = self.sessions();
            match sessions.get(id) {
                Some(s) if s.expires > Instant::now() => (s.token, s.csrf.clone()),
                Some(_) => {
                    sessions.remove(id);
                    return Err(ApiError::unauthorized("session expired; sign in again"));
                }
                None => return Err(ApiError::unauthorized("unknown session; sign in again")),
            }
        };
        if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let given = headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or(b"");
            if !bool::from(given.ct_eq(csrf.as_bytes())) {
                return Err(ApiError::forbidden("missing or wrong X-CSRF-Token"));
            }
        }
        Ok(Principal::of(&self.tokens[token], Some(id.to_string())))
    }
}

/// Middleware for every route but sign-in and the API document: the
/// request carries its [`Principal`] on, or is answered 401 / 403.
pub(crate) async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match state.auth.principal(req.method(), req.headers()) {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// 32 random bytes in hex, from the operating system.
fn random_id() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| {
        log::error!("hotline web: no random numbers for a session: {e}");
        ApiError::unavailable("cannot open a session now")
    })?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// `Set-Cookie` headers for a response (appended: one header per cookie).
pub(crate) fn set_cookies(cookies: [HeaderValue; 2]) -> AppendHeaders<[(axum::http::HeaderName, HeaderValue); 2]> {
    AppendHeaders(cookies.map(|c| (SET_COOKIE, c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(token: &str, role: Role) -> HttpToken {
        HttpToken { token: token.into(), role, agent: None, queues: vec![], name: role.name().into() }
    }

    #[test]
    fn tokens_sessions_and_csrf() {
        let auth = Auth::new(vec![tok("aaaaaaaaaaaaaaaa", Role::Admin), tok("vvvvvvvvvvvvvvvv", Role::Viewer)], true);
        let mut h = HeaderMap::new();
        assert_eq!(auth.principal(&Method::GET, &h).unwrap_err().status.as_u16(), 401);
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer vvvvvvvvvvvvvvvv"));
        assert_eq!(auth.principal(&Method::POST, &h).unwrap().role, Role::Viewer);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer vvvvvvvvvvvvvvvw"));
        assert_eq!(auth.principal(&Method::GET, &h).unwrap_err().status.as_u16(), 401);

        let s = auth.sign_in("aaaaaaaaaaaaaaaa").unwrap();
        let c = s.cookies[0].to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Path=/") && c.ends_with("Secure"), "{c}");
        assert!(!s.cookies[1].to_str().unwrap().contains("HttpOnly"));
        let id = s.principal.session.clone().unwrap();
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(&format!("x=1; {SESSION_COOKIE}={id}")).unwrap());
        assert_eq!(auth.principal(&Method::GET, &h).unwrap().role, Role::Admin);
        assert_eq!(auth.principal(&Method::POST, &h).unwrap_err().status.as_u16(), 403);
        h.insert(CSRF_HEADER, HeaderValue::from_str(&s.csrf).unwrap());
        assert!(auth.principal(&Method::DELETE, &h).is_ok());
        auth.sign_out(Some(&id));
        assert_eq!(auth.principal(&Method::GET, &h).unwrap_err().status.as_u16(), 401);
        assert!(auth.sign_in("nope").is_err());
    }
}
