//! Walking every match of a query, page by page, following `next_cursor`.

use std::collections::VecDeque;

use crate::{Page, Query};

/// Walks every match of a query: the query's page, then each page its
/// `next_cursor` leads to, until a page has none.
///
/// The walk does not read pages itself: each step takes a `fetch` that
/// lists one page of a query (e.g. `|q| store.users().list(q)`), so it
/// works for any collection, in a scoped view or a transaction, and for
/// bindings that hold their store behind a handle and must convert
/// errors. Each page is its own call, and so, outside a transaction, its
/// own snapshot: records written between pages are seen or not by where
/// they sort, and keyset cursors never repeat or skip a record that stays
/// unchanged.
///
/// A `fetch` that fails leaves the walk where it was: the next step asks
/// for the same page again.
///
/// ```
/// use rosterdb::{NewUser, Query, Store, Walk};
///
/// let store = Store::memory()?;
/// for name in ["ann", "bob", "cid"] {
///     store.users().create(NewUser::new(name, format!("{name}@example.com"), "A", "B"))?;
/// }
/// let walk = Walk::new(Query::all().page(1, 2));
/// let names = walk
///     .items(|q| store.users().list(q))
///     .map(|user| user.map(|u| u.username))
///     .collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(names, ["ann", "bob", "cid"]);
/// # Ok::<(), rosterdb::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Walk<T> {
    /// The query of the next page to read; `None` once the last was read.
    next: Option<Query>,
    /// Items of pages read by [`Walk::next_item`] and not yet returned.
    buffer: VecDeque<T>,
}

impl<T> Walk<T> {
    /// A walk from the page `query` asks for (the first page unless it
    /// sets one), following each page's `next_cursor`; with a page size of
    /// the query's (or the default, 100) on every page.
    pub fn new(query: Query) -> Walk<T> {
        Walk {
            next: Some(query),
            buffer: VecDeque::new(),
        }
    }

    /// The query of the next page to read: the walk's query, then a query
    /// with the cursor of the page read last; `None` once the last page
    /// was read.
    pub fn next_query(&self) -> Option<&Query> {
        self.next.as_ref()
    }

    /// Whether every item was returned: no page is left to read and
    /// [`Walk::next_item`] holds no item.
    pub fn is_done(&self) -> bool {
        self.next.is_none() && self.buffer.is_empty()
    }

    /// Reads the next page with `fetch`, or `None` when the last page was
    /// read. Items that [`Walk::next_item`] holds from an earlier page are
    /// not in it (they stay for `next_item`). A `fetch` error is returned
    /// as it is, and the walk stays where it was.
    pub fn next_page<E>(
        &mut self,
        fetch: impl FnOnce(&Query) -> Result<Page<T>, E>,
    ) -> Result<Option<Page<T>>, E> {
        let Some(query) = &self.next else {
            return Ok(None);
        };
        let page = fetch(query)?;
        self.next = page.next_cursor.as_deref().map(|c| Query::all().cursor(c));
        Ok(Some(page))
    }

    /// The next item, reading pages with `fetch` as needed (an empty page
    /// with a next cursor is passed over), or `None` when every item was
    /// returned. A `fetch` error is returned as it is, and the walk stays
    /// where it was.
    pub fn next_item<E>(
        &mut self,
        mut fetch: impl FnMut(&Query) -> Result<Page<T>, E>,
    ) -> Result<Option<T>, E> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Ok(Some(item));
            }
            match self.next_page(&mut fetch)? {
                Some(page) => self.buffer.extend(page.items),
                None => return Ok(None),
            }
        }
    }

    /// The walk as an iterator of items, reading pages with `fetch`. After
    /// an error it ends.
    pub fn items<E, F>(self, fetch: F) -> WalkItems<T, F>
    where
        F: FnMut(&Query) -> Result<Page<T>, E>,
    {
        WalkItems {
            walk: self,
            fetch,
            failed: false,
        }
    }
}

/// The items of a [`Walk`], from [`Walk::items`]: `Ok(item)` for each
/// match, or one `Err` after which the iterator ends.
#[derive(Debug)]
pub struct WalkItems<T, F> {
    walk: Walk<T>,
    fetch: F,
    failed: bool,
}

impl<T, E, F> Iterator for WalkItems<T, F>
where
    F: FnMut(&Query) -> Result<Page<T>, E>,
{
    type Item = Result<T, E>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.walk.next_item(&mut self.fetch) {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl<T, E, F> std::iter::FusedIterator for WalkItems<T, F> where
    F: FnMut(&Query) -> Result<Page<T>, E>
{
}
