#![doc = include_str!("../README.md")]

pub mod bulk;
pub mod clock;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod export;
pub mod extension;
pub mod import;
pub mod limits;
pub mod message;
pub mod password;
pub mod patch;
pub mod projection;
pub mod query;
pub mod render;
pub mod resource;
pub mod resources;
pub mod schema;
pub mod store;
pub mod validate;

pub use error::{Error, Result};
