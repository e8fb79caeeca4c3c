//! Tenant-scoped views (SPEC §7): the same operations, seeing one tenant.

use crate::documents::rules::Problems;
use crate::storage::store::Options;
use crate::storage::tx::{ReadContext, ReadTx, Tables, WriteContext, WriteTx, sealed};
use crate::{Result, Store};

/// A view of one tenant over a [`Store`], a transaction or a snapshot.
///
/// Creates through it set `tenant` (naming another tenant is `Validation`);
/// reads, lists, counts, updates and deletes see only that tenant's records:
/// any other record is `NotFound`, and counts, cursors and plans tell
/// nothing of other tenants.
#[derive(Debug)]
pub struct Scope<'a, C> {
    ctx: &'a C,
    tenant: String,
}

impl<'a, C: ReadContext> Scope<'a, C> {
    /// A view of `tenant` through `ctx`.
    pub fn new(ctx: &'a C, tenant: &str) -> Result<Self> {
        let mut problems = Problems::new();
        problems.check("tenant", tenant, crate::documents::rules::tenant);
        problems.into_result()?;
        Ok(Scope {
            ctx,
            tenant: tenant.to_owned(),
        })
    }

    /// The tenant this view sees.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
}

impl Scope<'_, Store> {
    /// Runs `f` in one write transaction seen through this view.
    pub fn write<T>(&self, f: impl FnOnce(&Scope<'_, WriteTx>) -> Result<T>) -> Result<T> {
        self.ctx.write(|tx| {
            f(&Scope {
                ctx: tx,
                tenant: self.tenant.clone(),
            })
        })
    }

    /// Runs `f` on a snapshot seen through this view.
    pub fn read<T>(&self, f: impl FnOnce(&Scope<'_, ReadTx>) -> Result<T>) -> Result<T> {
        self.ctx.read(|r| {
            f(&Scope {
                ctx: r,
                tenant: self.tenant.clone(),
            })
        })
    }
}

impl<C> sealed::Sealed for Scope<'_, C> {}

impl<C: ReadContext> ReadContext for Scope<'_, C> {
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T> {
        self.ctx.with_tables(f)
    }

    fn scope(&self) -> Option<&str> {
        Some(&self.tenant)
    }

    fn now(&self) -> crate::Timestamp {
        self.ctx.now()
    }
}

impl<C: WriteContext> WriteContext for Scope<'_, C> {
    fn with_write<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T>) -> Result<T> {
        self.ctx.with_write(f)
    }

    fn options(&self) -> &Options {
        self.ctx.options()
    }

    fn in_transaction(&self) -> bool {
        self.ctx.in_transaction()
    }
}
