// SPDX-License-Identifier: GPL-2.0-or-later
//! The JSON API under `/api/v1`: routes, what each principal may see and
//! do, errors as `{"error": "..."}`, and the layers every request passes
//! (panic guard, error log, request timeout, body limit).
//!
//! Scope: an admin (and a supervisor or viewer without queues) sees
//! everything. A supervisor or viewer with queues sees those queues, their
//! calls and their member agents. An agent sees itself, its queues and the
//! calls there not taken by another agent. Writes: admin on every agent,
//! supervisor on the agents it sees, agent on itself, viewer never.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Extension, Json, Router};
use futures_util::stream::{self, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::auth::{self, Auth, Principal};
use super::events::{EventPublisher, Record};
use super::host::{AgentCommand, HostError, WebHost};
use super::HostCalls;
use crate::core::config::Role;
use crate::core::AgentView;

/// The OpenAPI 3 description of every route below.
pub const OPENAPI: &str = include_str!("openapi.json");
/// Where the API lives; the route table's paths are relative to it.
pub const BASE: &str = "/api/v1";
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub(crate) struct AppState {
    pub host: Arc<dyn WebHost>,
    pub auth: Arc<Auth>,
    pub events: EventPublisher,
    pub shutdown: watch::Receiver<bool>,
    pub calls: HostCalls,
    /// The last agents and calls bodies served to principals who see
    /// everything, by the version of the host's snapshot they came from.
    pub views: Arc<ViewCache>,
}

/// Serialized views, reused while the host's snapshot stays the same.
#[derive(Default)]
pub(crate) struct ViewCache {
    agents: std::sync::Mutex<Option<(u64, Bytes)>>,
    calls: std::sync::Mutex<Option<(u64, Bytes)>>,
}

impl ViewCache {
    /// The body for `version` from `slot`, else `make`'s (kept for the next).
    fn get(slot: &std::sync::Mutex<Option<(u64, Bytes)>>, version: Option<u64>, make: impl FnOnce() -> ApiResult<Bytes>) -> ApiResult<Bytes> {
        let Some(v) = version else { return make() };
        if let Some((cv, body)) = &*slot.lock().unwrap_or_else(|e| e.into_inner()) {
            if *cv == v {
                return Ok(body.clone());
            }
        }
        let body = make()?;
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some((v, body.clone()));
        Ok(body)
    }
}

fn json_bytes<T: serde::Serialize>(v: &T) -> ApiResult<Bytes> {
    serde_json::to_vec(v).map(Bytes::from).map_err(|e| {
        log::error!("hotline web: cannot serialize a view: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

fn json_response(body: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

/// A failed request: status and message, sent as `{"error": message}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

/// The message of an error response, for the log line of [`log_errors`].
#[derive(Clone)]
struct ErrorNote(String);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }
    pub fn unauthorized(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, m)
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, m)
    }
    pub fn unavailable(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m)
    }
    fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer realm=\"hotline\""));
        }
        r.extensions_mut().insert(ErrorNote(self.message));
        r
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> ApiError {
        let status = match &e {
            HostError::NotFound(_) => StatusCode::NOT_FOUND,
            HostError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HostError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HostError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(e: BytesRejection) -> ApiError {
        let status = e.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE { "request body too large".to_string() } else { e.body_text() };
        ApiError::new(status, message)
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> ApiError {
        ApiError::new(e.status(), e.body_text())
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Public,
    Signed,
}

/// Every route: method, path under [`BASE`], who may call it, handler.
/// The router is built from this table alone, and a test holds it against
/// the OpenAPI document.
pub(crate) fn routes() -> Vec<(Method, &'static str, Access, MethodRouter<AppState>)> {
    use Access::*;
    vec![
        (Method::GET, "/openapi.json", Public, get(openapi)),
        (Method::POST, "/session", Public, post(sign_in)),
        (Method::GET, "/session", Signed, get(whoami)),
        (Method::DELETE, "/session", Signed, delete(sign_out)),
        (Method::GET, "/queues", Signed, get(queues)),
        (Method::GET, "/agents", Signed, get(agents)),
        (Method::GET, "/calls", Signed, get(calls)),
        (Method::GET, "/stats", Signed, get(stats)),
        (Method::GET, "/events", Signed, get(events)),
        (Method::POST, "/agents/{name}/login", Signed, post(agent_command::<Login>)),
        (Method::POST, "/agents/{name}/logout", Signed, post(agent_command::<Logout>)),
        (Method::POST, "/agents/{name}/break", Signed, post(agent_command::<Break>)),
        (Method::POST, "/agents/{name}/ready", Signed, post(agent_command::<Ready>)),
        (Method::POST, "/calls/{id}/notes", Signed, post(call_note)),
        (Method::POST, "/calls/{id}/recording/pause", Signed, post(record_pause::<true>)),
        (Method::POST, "/calls/{id}/recording/resume", Signed, post(record_pause::<false>)),
        (Method::GET, "/recordings", Signed, get(recordings)),
        (Method::GET, "/recordings/{id}", Signed, get(recording)),
        (Method::GET, "/recordings/{id}/audio", Signed, get(recording_audio)),
        (Method::GET, "/webhooks", Signed, get(webhooks)),
        (Method::POST, "/webhooks/retry", Signed, post(webhooks_retry)),
        (Method::POST, "/webhooks/purge", Signed, post(webhooks_purge)),
    ]
}

/// The whole application with its layers.
pub(crate) fn app(state: AppState, max_body_bytes: usize, request_timeout: Duration) -> Router {
    let mut api = Router::new();
    for (_, path, access, route) in routes() {
        let route = match access {
            Access::Public => route,
            Access::Signed => route.route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate)),
        };
        api = api.route(path, route);
    }
    Router::new()
        .nest(BASE, api)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async { ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here") })
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn(move |req: Request, next: Next| time_limit(request_timeout, req, next)))
        .layer(middleware::from_fn(log_errors))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
}

/// The client's address, put on each request by the connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub std::net::SocketAddr);

/// One log line per failed request: who, what, and why.
async fn log_errors(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let peer = req.extensions().get::<Peer>().map(|p| p.0.to_string()).unwrap_or_else(|| "-".into());
    let r = next.run(req).await;
    let status = r.status();
    if status.is_client_error() || status.is_server_error() {
        let why = r.extensions().get::<ErrorNote>().map(|n| n.0.as_str()).unwrap_or("");
        if status.is_server_error() {
            log::warn!("hotline web: {peer} {method} {path}: {} {why}", status.as_u16());
        } else {
            log::info!("hotline web: {peer} {method} {path}: {} {why}", status.as_u16());
        }
    }
    r
}

/// A handler (body read included) that takes longer than the request
/// timeout is answered 408. Event streams are not cut: their handler
/// returns at once and the stream is the body.
async fn time_limit(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, format!("request not done within {} s", limit.as_secs_f64())).into_response(),
    }
}

fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| err.downcast_ref::<String>().cloned()).unwrap_or_default();
    log::error!("hotline web: a request handler panicked: {what}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// Run host calls on the blocking pool (they wait for the router).
async fn host_call<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn WebHost) -> ApiResult<T> + Send + 'static,
{
    let host = state.host.clone();
    let under_way = state.calls.enter();
    match tokio::task::spawn_blocking(move || {
        let _under_way = under_way;
        f(&*host)
    })
    .await
    {
        Ok(r) => r,
        Err(e) => {
            log::error!("hotline web: host call failed: {e}");
            Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

/// What a principal may see: None = everything of that kind.
pub(crate) struct Visibility {
    queues: Option<HashSet<String>>,
    agents: Option<HashSet<String>>,
}

impl Visibility {
    /// Needs the agents (their queues) for scoped principals only.
    fn of(p: &Principal, host: &dyn WebHost) -> Result<Visibility, HostError> {
        Ok(match (p.role, &p.agent) {
            (Role::Agent, Some(me)) => {
                let queues = host.agents()?.into_iter().find(|a| &a.name == me).map(|a| a.queues).unwrap_or_default();
                Visibility { queues: Some(queues.into_iter().collect()), agents: Some(HashSet::from([me.clone()])) }
            }
            // An agent token always names its agent (config checks it).
            (Role::Agent, None) => Visibility { queues: Some(HashSet::new()), agents: Some(HashSet::new()) },
            (Role::Supervisor | Role::Viewer, _) if !p.queues.is_empty() => {
                let agents = host.agents()?.into_iter().filter(|a| a.queues.iter().any(|q| p.queues.contains(q))).map(|a| a.name);
                Visibility { queues: Some(p.queues.iter().cloned().collect()), agents: Some(agents.collect()) }
            }
            _ => Visibility { queues: None, agents: None },
        })
    }

    /// Sees every queue and agent (admin, unscoped supervisor or viewer).
    fn is_everything(&self) -> bool {
        self.queues.is_none() && self.agents.is_none()
    }

    fn queue(&self, q: &str) -> bool {
        self.queues.as_ref().map_or(true, |s| s.contains(q))
    }

    fn agent(&self, a: &str) -> bool {
        self.agents.as_ref().map_or(true, |s| s.contains(a))
    }

    /// Something about an agent and/or a queue: the agent decides if it
    /// names one, else the queue; about neither, everyone sees it.
    fn item(&self, agent: Option<&str>, queue: Option<&str>) -> bool {
        match (agent, queue) {
            (Some(a), _) => self.agent(a),
            (None, Some(q)) => self.queue(q),
            (None, None) => true,
        }
    }

    fn everything(&self) -> bool {
        self.queues.is_none() && self.agents.is_none()
    }

    /// An event: unscoped principals see all; scoped ones what is about
    /// their agents and queues (never an event whose JSON could not be read).
    fn event(&self, r: &Record) -> bool {
        self.everything() || r.about.as_ref().is_some_and(|a| self.item(a.agent.as_deref(), a.queue.as_deref()))
    }
}

async fn openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI)
}

/// A JSON body; `optional`: an empty body stands for `{}`.
fn json_body<T: DeserializeOwned + Default>(body: Result<Bytes, BytesRejection>, optional: bool) -> ApiResult<T> {
    let body = body?;
    if optional && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("malformed JSON body: {e}")))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SignIn {
    token: String,
}

async fn sign_in(State(state): State<AppState>, body: Result<Bytes, BytesRejection>) -> ApiResult<Response> {
    let SignIn { token } = json_body(body, false)?;
    let s = state.auth.sign_in(&token)?;
    log::info!("hotline web: session opened for {}", s.principal.name);
    let mut body = serde_json::to_value(&s.principal).unwrap_or_default();
    body["csrf_token"] = s.csrf.into();
    body["expires_in"] = auth::SESSION_TTL.as_secs().into();
    Ok((auth::set_cookies(s.cookies), Json(body)).into_response())
}

async fn whoami(Extension(p): Extension<Principal>) -> Json<Principal> {
    Json(p)
}

async fn sign_out(State(state): State<AppState>, Extension(p): Extension<Principal>) -> Response {
    (auth::set_cookies(state.auth.sign_out(p.session.as_deref())), Json(json!({ "ok": true }))).into_response()
}

async fn queues(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    let qs = host_call(&state, move |h| {
        let v = Visibility::of(&p, h)?;
        Ok(h.queues()?.into_iter().filter(|q| v.queue(&q.name)).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(qs).into_response())
}

async fn agents(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    let cache = state.views.clone();
    let body = host_call(&state, move |h| {
        let v = Visibility::of(&p, h)?;
        if v.is_everything() {
            return ViewCache::get(&cache.agents, h.snapshot_version(), || json_bytes(&h.agents()?));
        }
        json_bytes(&h.agents()?.into_iter().filter(|a| v.agent(&a.name)).collect::<Vec<AgentView>>())
    })
    .await?;
    Ok(json_response(body))
}

async fn calls(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    let cache = state.views.clone();
    let body = host_call(&state, move |h| {
        let v = Visibility::of(&p, h)?;
        if v.is_everything() {
            return ViewCache::get(&cache.calls, h.snapshot_version(), || json_bytes(&h.calls()?));
        }
        json_bytes(&h.calls()?.into_iter().filter(|c| v.item(c.agent.as_deref(), Some(&c.queue))).collect::<Vec<_>>())
    })
    .await?;
    Ok(json_response(body))
}

async fn stats(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    let report = host_call(&state, move |h| {
        let v = Visibility::of(&p, h)?;
        let mut r = h.stats()?;
        r.queues.retain(|q| v.queue(&q.name));
        r.agents.retain(|a| v.agent(&a.name));
        Ok(r)
    })
    .await?;
    Ok(Json(report).into_response())
}

/// The bodies of the agent commands (each optional: empty means `{}`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Login {
    contact: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Break {
    reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Logout {}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Ready {}

impl From<Login> for AgentCommand {
    fn from(b: Login) -> Self {
        AgentCommand::Login { contact: b.contact }
    }
}

impl From<Break> for AgentCommand {
    fn from(b: Break) -> Self {
        AgentCommand::Break { reason: b.reason }
    }
}

impl From<Logout> for AgentCommand {
    fn from(_: Logout) -> Self {
        AgentCommand::Logout
    }
}

impl From<Ready> for AgentCommand {
    fn from(_: Ready) -> Self {
        AgentCommand::Ready
    }
}

/// `POST /agents/{name}/<command>` with body `B`: check the principal's
/// right over the agent, then carry out the command.
async fn agent_command<B: DeserializeOwned + Default + Into<AgentCommand>>(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let Path(name) = name?;
    match (p.role, &p.agent) {
        (Role::Viewer, _) => return Err(ApiError::forbidden("this token is read-only")),
        (Role::Agent, me) if me.as_deref() != Some(name.as_str()) => {
            return Err(ApiError::forbidden("an agent token acts on its own agent only"))
        }
        _ => {}
    }
    let cmd: AgentCommand = json_body::<B>(body, true)?.into();
    let action = cmd.action();
    let who = p.name.clone();
    let agent = name.clone();
    host_call(&state, move |h| {
        if !h.has_agent(&agent) {
            return Err(HostError::NotFound(format!("no agent named {agent:?}")).into());
        }
        if !Visibility::of(&p, h)?.agent(&agent) {
            return Err(ApiError::forbidden(format!("agent {agent:?} is not in this token's queues")));
        }
        Ok(h.agent_command(&agent, cmd)?)
    })
    .await?;
    log::info!("hotline web: {who}: agent {name}: {action}");
    Ok(Json(json!({ "ok": true, "agent": name, "action": action })).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Note {
    text: String,
}

/// `POST /calls/{id}/notes`: a note on a live call, for its transfer
/// history. Agents note their own calls; supervisors the calls of their
/// queues; viewers none.
async fn call_note(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    let call = id.parse::<u64>().map(crate::core::CallId).map_err(|_| ApiError::bad_request(format!("{id:?} is not a call id")))?;
    if p.role == Role::Viewer {
        return Err(ApiError::forbidden("this token is read-only"));
    }
    let Note { text } = json_body(body, false)?;
    let who = p.name.clone();
    host_call(&state, move |h| {
        let live = h.live_call(call)?.ok_or_else(|| HostError::NotFound(format!("no live call {call}")))?;
        let allowed = match (p.role, &p.agent) {
            (Role::Agent, me) => live.agent.is_some() && live.agent.as_deref() == me.as_deref(),
            _ => Visibility::of(&p, h)?.queue(&live.queue),
        };
        if !allowed {
            return Err(ApiError::forbidden(format!("call {call} is not this token's to note")));
        }
        Ok(h.call_note(call, &text, &p.name)?)
    })
    .await?;
    log::info!("hotline web: {who}: call {call}: note");
    Ok((StatusCode::ACCEPTED, Json(json!({ "ok": true, "call": call.to_string() }))).into_response())
}

/// `POST /calls/{id}/recording/pause` and `.../resume`: the recorder writes
/// silence meanwhile (for card numbers read out); the span is kept with
/// the recording. Agents on their own calls, supervisors their queues'.
async fn record_pause<const PAUSE: bool>(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    let call = id.parse::<u64>().map(crate::core::CallId).map_err(|_| ApiError::bad_request(format!("{id:?} is not a call id")))?;
    if p.role == Role::Viewer {
        return Err(ApiError::forbidden("this token is read-only"));
    }
    let who = p.name.clone();
    let said = host_call(&state, move |h| {
        let live = h.live_call(call)?.ok_or_else(|| HostError::NotFound(format!("no live call {call}")))?;
        let allowed = match (p.role, &p.agent) {
            (Role::Agent, me) => live.agent.is_some() && live.agent.as_deref() == me.as_deref(),
            _ => Visibility::of(&p, h)?.queue(&live.queue),
        };
        if !allowed {
            return Err(ApiError::forbidden(format!("call {call} is not this token's")));
        }
        Ok(h.record_pause(call, PAUSE)?)
    })
    .await?;
    log::info!("hotline web: {who}: {said}");
    Ok(Json(json!({ "ok": true, "call": call.to_string(), "recording": if PAUSE { "paused" } else { "resumed" }, "message": said })).into_response())
}

/// Who sees a recording: admins all; supervisors their queues'; agents
/// their own (metadata only); viewers none. The audio: admins and
/// supervisors.
fn may_see_recording(p: &Principal, v: &Visibility, r: &crate::store::RecordingRecord, audio: bool) -> bool {
    match (p.role, &p.agent) {
        (Role::Admin, _) => true,
        (Role::Supervisor, _) => r.queue.as_deref().is_some_and(|q| v.queue(q)),
        (Role::Agent, Some(me)) => !audio && r.agent.as_deref() == Some(me.as_str()),
        _ => false,
    }
}

fn recording_id(id: Result<Path<String>, PathRejection>) -> ApiResult<u64> {
    let Path(id) = id?;
    id.parse::<u64>().map_err(|_| ApiError::bad_request(format!("{id:?} is not a recording id")))
}

/// `GET /recordings?agent=..&queue=..&caller=..&from=..&to=..&min=..&data.<key>=..`:
/// the recordings this token may see, newest first.
async fn recordings(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> ApiResult<Response> {
    if p.role == Role::Viewer {
        return Err(ApiError::forbidden("recordings are not for viewer tokens"));
    }
    let filter = crate::recording::search::filter(q.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(ApiError::bad_request)?;
    let rows = host_call(&state, move |h| {
        let v = Visibility::of(&p, h)?;
        Ok(h.recordings(&filter)?.into_iter().filter(|r| may_see_recording(&p, &v, r, false)).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(rows).into_response())
}

async fn find_recording(state: &AppState, p: Principal, id: u64, audio: bool) -> ApiResult<crate::store::RecordingRecord> {
    host_call(state, move |h| {
        let r = h.recording(id)?.ok_or_else(|| HostError::NotFound(format!("no recording {id}")))?;
        if !may_see_recording(&p, &Visibility::of(&p, h)?, &r, audio) {
            return Err(ApiError::forbidden(format!("recording {id} is not this token's to {}", if audio { "hear" } else { "see" })));
        }
        Ok(r)
    })
    .await
}

/// `GET /recordings/{id}`: one recording's metadata.
async fn recording(State(state): State<AppState>, Extension(p): Extension<Principal>, id: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let id = recording_id(id)?;
    Ok(Json(find_recording(&state, p, id, false).await?).into_response())
}

/// `GET /recordings/{id}/audio`: the file, with HTTP Range (admins and
/// supervisors of its queue).
async fn recording_audio(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    id: Result<Path<String>, PathRejection>,
    req: Request,
) -> ApiResult<Response> {
    let id = recording_id(id)?;
    let r = find_recording(&state, p, id, true).await?;
    let path = match (r.status.as_deref(), &r.path) {
        (Some("done"), Some(path)) => path.clone(),
        (status, _) => return Err(ApiError::new(StatusCode::CONFLICT, format!("recording {id} is {}: no file to serve", status.unwrap_or("unknown")))),
    };
    let mime = match r.format.as_deref() {
        Some("wav") => "audio/wav",
        Some("gsm") => "audio/x-gsm",
        _ => "application/octet-stream",
    };
    let mut serve = tower_http::services::ServeFile::new_with_mime(&path, &mime.parse().expect("a mime type"));
    match serve.try_call(req).await {
        Ok(resp) if resp.status() == StatusCode::NOT_FOUND => Err(ApiError::new(StatusCode::GONE, format!("recording {id}: its file is gone"))),
        Ok(resp) => Ok(resp.map(axum::body::Body::new)),
        Err(e) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("recording {id}: {e}"))),
    }
}

fn admin_only(p: &Principal) -> ApiResult<()> {
    match p.role {
        Role::Admin => Ok(()),
        _ => Err(ApiError::forbidden("webhooks are for admin tokens")),
    }
}

/// `GET /webhooks`: every endpoint's state, counters and outbox.
async fn webhooks(State(state): State<AppState>, Extension(p): Extension<Principal>) -> ApiResult<Response> {
    admin_only(&p)?;
    let views = host_call(&state, |h| Ok(h.webhooks()?)).await?;
    Ok(Json(json!({ "webhooks": views })).into_response())
}

/// The body of retry and purge: one endpoint, or (absent) all.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WebhookPick {
    webhook: Option<String>,
}

/// `POST /webhooks/retry`: dead letters back into the outbox, disabled
/// endpoints enabled.
async fn webhooks_retry(State(state): State<AppState>, Extension(p): Extension<Principal>, body: Result<Bytes, BytesRejection>) -> ApiResult<Response> {
    admin_only(&p)?;
    let pick: WebhookPick = json_body(body, true)?;
    let who = p.name.clone();
    let name = pick.webhook.clone();
    let n = host_call(&state, move |h| Ok(h.webhooks_retry(name.as_deref())?)).await?;
    log::info!("hotline web: {who}: webhooks retry {}: {n} events", pick.webhook.as_deref().unwrap_or("(all)"));
    Ok(Json(json!({ "ok": true, "events": n })).into_response())
}

/// `POST /webhooks/purge`: drop dead letters.
async fn webhooks_purge(State(state): State<AppState>, Extension(p): Extension<Principal>, body: Result<Bytes, BytesRejection>) -> ApiResult<Response> {
    admin_only(&p)?;
    let pick: WebhookPick = json_body(body, true)?;
    let who = p.name.clone();
    let name = pick.webhook.clone();
    let n = host_call(&state, move |h| Ok(h.webhooks_purge(name.as_deref())?)).await?;
    log::info!("hotline web: {who}: webhooks purge {}: {n} events", pick.webhook.as_deref().unwrap_or("(all)"));
    Ok(Json(json!({ "ok": true, "events": n })).into_response())
}

#[derive(Deserialize)]
struct EventsQuery {
    /// Resume after this id (for clients that cannot set `Last-Event-ID`).
    since: Option<u64>,
}

/// `GET /events`: server-sent events, resumable with `Last-Event-ID`.
/// Ends when the server stops, or when the client falls too far behind
/// (after an `event: gap` saying how many it lost).
async fn events(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let since = query.map_err(|e| ApiError::bad_request(e.body_text()))?.0.since;
    let last_id = match headers.get("last-event-id") {
        Some(v) => Some(v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()).ok_or_else(|| ApiError::bad_request("Last-Event-ID must be an event id"))?),
        None => since,
    };
    let vis = host_call(&state, move |h| Ok(Visibility::of(&p, h)?)).await?;
    let sub = state.events.subscribe(last_id);
    let gap = sub.gap.map(|(after, through)| Item::Gap(json!({ "after": after, "through": through, "reason": "expired" })));
    let backlog: Vec<_> = sub.backlog.into_iter().filter(|r| vis.event(r)).map(Item::Event).collect();
    let all = stream::iter(gap.into_iter().chain(backlog)).chain(live(sub.live, state.shutdown.clone(), vis));
    Ok(Sse::new(all.map(|i| Ok(i.into()))).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// What an event stream sends.
#[derive(Debug)]
enum Item {
    Event(Arc<Record>),
    /// Events the client will not get (`event: gap`).
    Gap(serde_json::Value),
}

impl From<Item> for SseEvent {
    fn from(i: Item) -> SseEvent {
        match i {
            Item::Event(r) => SseEvent::default().id(r.id.to_string()).event(&r.kind).data(&r.json),
            Item::Gap(data) => SseEvent::default().event("gap").data(data.to_string()),
        }
    }
}

/// Live events the principal may see, until stop; a client too slow for
/// the channel gets a gap and the end (it resumes from the ring with
/// Last-Event-ID).
fn live(rx: broadcast::Receiver<Arc<Record>>, shutdown: watch::Receiver<bool>, vis: Visibility) -> impl Stream<Item = Item> {
    stream::unfold(Some((rx, shutdown, vis)), |st| async move {
        let (mut rx, mut shutdown, vis) = st?;
        loop {
            let r = tokio::select! {
                biased;
                _ = super::stopped(&mut shutdown) => return None,
                r = rx.recv() => r,
            };
            match r {
                Ok(rec) if vis.event(&rec) => return Some((Item::Event(rec), Some((rx, shutdown, vis)))),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    log::info!("hotline web: an event stream fell {n} events behind; closing it");
                    return Some((Item::Gap(json!({ "missed": n, "reason": "lagged" })), None));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves is in the OpenAPI document, and the
    /// document describes nothing the router lacks.
    #[test]
    fn openapi_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        assert_eq!(doc["servers"][0]["url"], BASE);
        let table: HashSet<(String, String)> = routes().iter().map(|(m, p, _, _)| (m.as_str().to_lowercase(), p.to_string())).collect();
        for (m, p) in &table {
            assert!(doc["paths"][p][m].is_object(), "{m} {p} missing from openapi.json");
        }
        let paths = doc["paths"].as_object().expect("paths");
        for (p, ops) in paths {
            for m in ops.as_object().expect("operations").keys().filter(|k| *k != "parameters") {
                assert!(table.contains(&(m.clone(), p.clone())), "openapi.json has {m} {p}, the router does not");
            }
        }
        assert_eq!(table.len(), routes().len(), "no route twice");
    }

    /// A stream that falls behind the channel is told how much it lost,
    /// then ends; one that keeps up ends at stop.
    #[test]
    fn a_lagging_stream_gets_a_gap_and_ends() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let events = EventPublisher::new();
        let (stop, shutdown) = watch::channel(false);
        let all = || Visibility { queues: None, agents: None };
        let slow = live(events.subscribe(None).live, shutdown.clone(), all());
        let mut keeping_up = Box::pin(live(events.subscribe(None).live, shutdown, all()));
        for id in 1..=300 {
            events.publish(id, "AgentState", "{}".into());
            let next = rt.block_on(keeping_up.next());
            assert!(matches!(&next, Some(Item::Event(r)) if r.id == id), "{next:?}");
        }
        let items: Vec<Item> = rt.block_on(slow.collect());
        assert_eq!(items.len(), 1, "{items:?}");
        assert!(matches!(&items[0], Item::Gap(g) if g["missed"] == 300 - crate::web::events::CHANNEL_EVENTS as u64), "{items:?}");
        let _ = stop.send(true);
        assert!(rt.block_on(keeping_up.next()).is_none(), "stop ends it");
    }
}
