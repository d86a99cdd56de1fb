//! The I/O edge towards Microsoft Graph: authentication, HTTP, retries and paging.
//! Nothing here knows about object kinds or git.

pub mod assertion;
pub mod auth;
pub mod client;
pub mod error;

pub use assertion::ClientCertificate;
pub use auth::{Credential, Secret};
pub use client::{ClientOptions, GraphClient, Page, Pager};
pub use error::{ErrorKind, GraphError};
