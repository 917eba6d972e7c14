//! The data-subject request register on PostgreSQL: the kernel's record store with the
//! request's own statements.

mod register;

use std::sync::Arc;

use aura_records::RecordStore;
use aura_requests::request::Requests;

use crate::stores::PgStores;

impl PgStores {
    pub fn requests(&self) -> Arc<dyn RecordStore<Requests>> {
        Arc::new(self.clone())
    }
}
