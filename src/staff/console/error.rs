//! How console failures reach a person: sign-in problems redirect to the form, a stale
//! form says so, everything else is an HTML page with the API's status and message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::pages;
use crate::staff::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("please sign in")]
    SignIn,
    #[error("this form has expired; reload the page and try again")]
    Csrf,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for ConsoleError {
    fn from(e: sqlx::Error) -> Self {
        ConsoleError::Api(e.into())
    }
}

impl From<anyhow::Error> for ConsoleError {
    fn from(e: anyhow::Error) -> Self {
        ConsoleError::Api(e.into())
    }
}

impl ConsoleError {
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::Api(e) => e.status(),
        }
    }

    /// What a person may read: internal details go to the log only.
    pub fn message(&self) -> String {
        match self {
            ConsoleError::Api(ApiError::Internal(e)) => {
                tracing::error!("console: {e:#}");
                "Something went wrong on our side; please try again.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::SignIn = self {
            return Redirect::to("/console/sign-in").into_response();
        }
        let status = self.status();
        (status, pages::error_page(status, &self.message())).into_response()
    }
}

impl From<super::viewer::CsrfMismatch> for ConsoleError {
    fn from(_: super::viewer::CsrfMismatch) -> Self {
        ConsoleError::Csrf
    }
}
