//! Errors as REST Proxy writes them: a status and a JSON body
//! `{"error_code", "message"}`, plus Ringlet's contract name in `error`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ringlet::{ErrorDetails, ErrorKind};
use serde::Serialize;

/// One failed request (or one failed record of a streamed produce).
///
/// `error_code` follows REST Proxy's habit: the HTTP status, or the status
/// followed by two digits that tell cases apart (`40401` topic not found,
/// `40403` consumer instance not found, …). `error` is the contract's name of
/// the failure (`Full`, `Expired`, `NotFound`, …) or, for errors of HTTP itself,
/// one of `BadRequest`, `Unauthorized`, `PayloadTooLarge`,
/// `UnsupportedMediaType`, `NotAcceptable`, `MethodNotAllowed`, `TooMany`,
/// `ReadOnly`, `AlreadyExists`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiError {
    /// The HTTP status.
    #[serde(skip)]
    #[schema(ignore)]
    pub status: StatusCode,
    /// REST Proxy's error code.
    pub error_code: u32,
    /// What is wrong and what to do, in the user's words.
    pub message: String,
    /// The failure's name.
    #[schema(value_type = String)]
    pub error: &'static str,
}

impl ApiError {
    /// An error with `status`, REST Proxy code `code` and a message.
    pub fn new(
        status: StatusCode,
        code: u32,
        error: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            error_code: code,
            message: message.into(),
            error,
        }
    }

    /// 400: the request cannot be read (malformed JSON, a bad parameter).
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, 400, "BadRequest", message)
    }

    /// 422: the request is well formed but asks for something invalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            42200,
            "BadRequest",
            message,
        )
    }

    /// 404 for a topic.
    pub fn no_topic(name: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            40401,
            "NotFound",
            format!("topic '{name}' does not exist: create it first (POST /v3/clusters/{{cluster}}/topics)"),
        )
    }

    /// 404 for a queue.
    pub fn no_queue(name: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            40404,
            "NotFound",
            format!("queue '{name}' does not exist: create it first (POST /v3/queues)"),
        )
    }

    /// 429: a limit of this server or a full topic or queue.
    pub fn too_many(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, 42900, "TooMany", message)
    }

    /// The status and code for one of the core's errors, with its message.
    pub fn from_core(e: &(impl ErrorDetails + ?Sized)) -> Self {
        let (status, code) = match e.kind() {
            ErrorKind::Full => (StatusCode::TOO_MANY_REQUESTS, 42901),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, 40400),
            ErrorKind::Closed => (StatusCode::CONFLICT, 40904),
            ErrorKind::Expired => (StatusCode::CONFLICT, 40902),
            ErrorKind::AlreadySettled => (StatusCode::CONFLICT, 40903),
            ErrorKind::NotOwner => (StatusCode::CONFLICT, 40905),
            ErrorKind::VersionConflict => (StatusCode::CONFLICT, 40906),
            ErrorKind::TypeMismatch => (StatusCode::CONFLICT, 40907),
            ErrorKind::OutOfRange => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            ErrorKind::ConfigError => (StatusCode::UNPROCESSABLE_ENTITY, 42201),
            ErrorKind::InvalidName => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            ErrorKind::NoKey => (StatusCode::UNPROCESSABLE_ENTITY, 42204),
            ErrorKind::Timeout => (StatusCode::REQUEST_TIMEOUT, 40800),
            ErrorKind::Lagged => (StatusCode::CONFLICT, 40908),
            ErrorKind::StreamError => (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            ErrorKind::SchemaError => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            // The server's own storage failed: not the client's doing.
            ErrorKind::Corrupt | ErrorKind::Locked | ErrorKind::Io => {
                (StatusCode::SERVICE_UNAVAILABLE, 50300)
            }
            _ => (StatusCode::CONFLICT, 40900),
        };
        ApiError::new(status, code, e.kind().as_str(), e.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error, self.error_code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ringlet::Error> for ApiError {
    fn from(e: ringlet::Error) -> Self {
        ApiError::from_core(&e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, axum::Json(&self)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
