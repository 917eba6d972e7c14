//! The data-subject request register on PostgreSQL: the kernel's record store with the
//! request's own statements, and the retention job's read (the writes with the
//! request's reminder plan are the kernel's, `crate::planned`).

mod planned;
mod register;

use std::sync::Arc;

use aura_records::RecordStore;
use aura_requests::{request::Requests, store::RequestRepository};

use crate::stores::PgStores;

impl PgStores {
    pub fn requests(&self) -> Arc<dyn RecordStore<Requests>> {
        Arc::new(self.clone())
    }

    /// The retention job's read.
    pub fn request_repository(&self) -> Arc<dyn RequestRepository> {
        Arc::new(self.clone())
    }
}
