//! Reading requests: JSON bodies within the size limit, path and query
//! parameters, with every refusal a REST Proxy error body — and times.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::State;

/// Path parameters; a refusal is a `400` error body.
pub(crate) struct P<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Arc<State>> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<State>) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, s)
            .await
            .map(|p| P(p.0))
            .map_err(|e| ApiError::bad_request(format!("path: {}", e.body_text())))
    }
}

/// Query parameters; a refusal is a `400` error body naming the parameter.
pub(crate) struct Q<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Arc<State>> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<State>) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, s)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| ApiError::bad_request(format!("query: {}", e.body_text())))
    }
}

/// The raw body of a JSON request: its content type checked (`415`), its size
/// bounded by the config (`413`). Empty when the request had none.
pub(crate) struct Raw(pub axum::body::Bytes);

impl FromRequest<Arc<State>> for Raw {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Arc<State>) -> Result<Self, ApiError> {
        let limit = s.config.max_body_bytes;
        let too_large = || {
            ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                41300,
                "PayloadTooLarge",
                format!("the request body is larger than this server's limit of {limit} bytes: send fewer records per request"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("?").to_owned());
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| too_large())?;
        if !bytes.is_empty() {
            check_json_type(content_type.as_deref())?;
        }
        Ok(Raw(bytes))
    }
}

fn check_json_type(content_type: Option<&str>) -> Result<(), ApiError> {
    let Some(ct) = content_type else {
        return Err(unsupported("no Content-Type"));
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || essence == "application/x-ndjson"
        || (essence.starts_with("application/vnd.kafka.") && essence.ends_with("+json"));
    if json {
        Ok(())
    } else {
        Err(unsupported(&format!("Content-Type {ct}")))
    }
}

fn unsupported(what: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        41500,
        "UnsupportedMediaType",
        format!("the body must be JSON, sent with Content-Type: application/json (or application/vnd.kafka.v2+json); this request has {what}"),
    )
}

/// A JSON body of type `T`.
pub(crate) struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<State>> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Arc<State>) -> Result<Self, ApiError> {
        let Raw(bytes) = Raw::from_request(req, s).await?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "the request needs a JSON body (Content-Type: application/json)",
            ));
        }
        parse(&bytes).map(Body)
    }
}

/// A JSON body of type `T`, or none.
pub(crate) struct OptBody<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<Arc<State>> for OptBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Arc<State>) -> Result<Self, ApiError> {
        let Raw(bytes) = Raw::from_request(req, s).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptBody(None));
        }
        parse(&bytes).map(|v| OptBody(Some(v)))
    }
}

/// `T` from JSON: a syntax error is `400`, a well-formed body of the wrong
/// shape (a missing or unknown field, a wrong type) `422`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| json_error(&e))
}

pub(crate) fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            ApiError::invalid(format!("the body does not have the expected shape: {e}"))
        }
        _ => ApiError::bad_request(format!("the body is not valid JSON: {e}")),
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 in UTC, e.g.
/// `2021-02-05T19:14:42.123Z` (`2021-02-05T19:14:42Z` on a whole second).
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, sec) = (rem / 3600, rem / 60 % 60, rem % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{millis:03}Z")
    }
}

/// An RFC 3339 time (`2021-02-05T19:14:42Z`, `…42.5+01:00`) as milliseconds
/// since the Unix epoch.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        millis = frac.parse::<i64>().ok()? * 10_i64.pow(3 - frac.len() as u32);
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset) * 1000 + millis)
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2021-02-05T19:14:42Z"),
            Some(1_612_552_482_000)
        );
        assert_eq!(rfc3339(1_612_552_482_123), "2021-02-05T19:14:42.123Z");
        assert_eq!(
            parse_rfc3339("2021-02-05T20:14:42.5+01:00"),
            Some(1_612_552_482_500)
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59.999Z"), Some(-1));
        for ms in [
            -62_135_596_800_000_i64,
            -1,
            0,
            951_782_400_000,
            4_102_444_800_000,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms), "{ms}");
        }
        for bad in [
            "",
            "2021-02-05",
            "2021-13-05T00:00:00Z",
            "2021-02-05T00:00:00",
            "x021-02-05T00:00:00Z",
            "2021-02-05T00:00:00.Z",
            "2021-02-05T00:00:00+1:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_content_types() {
        assert!(check_json_type(Some("application/json; charset=utf-8")).is_ok());
        assert!(check_json_type(Some("application/vnd.kafka.json.v2+json")).is_ok());
        assert!(check_json_type(Some("text/plain")).is_err());
        assert!(check_json_type(None).is_err());
    }
}
