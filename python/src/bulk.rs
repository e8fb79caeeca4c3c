//! The documents of a bulk create (`Users.create_many`), converted to JSON
//! and read into the core's inputs a chunk at a time.
//!
//! Converting a dict needs the GIL; reading the JSON into an input (the
//! core's `validated_from_json`, which moves the JSON's strings and
//! objects into the input and checks its field rules once, so that
//! `create_many_validated` need not) does not. A large batch is read on
//! a second thread while this one converts the next chunk, and each chunk's JSON is
//! dropped once read, so the batch's JSON is never all held at once (a
//! 20,000-user `create_many` spent 30% of its conversion in the kernel
//! zeroing fresh pages for it). The GIL is held from the first document to
//! the last, so no other Python thread can change a document mid-call,
//! and the call reports what reading one after the other would: a `docs`
//! that is not a list, then the first item that is not a dict
//! (`TypeError`), then the first document, in input order, that does not
//! read (`ValidationError` naming `docs[3].email`).

use std::sync::mpsc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rosterdb::{Error, FieldError, NewUser, Validated};
use serde_json::Value;

use crate::args::type_name;
use crate::convert::{convert_document, new_document};
use crate::errors::IntoPyResult;

/// Documents converted before a chunk is handed to the reading thread.
const CHUNK: usize = 64;

/// Chunks the reading thread may have waiting: converted JSON held at once
/// is at most this many chunks plus the one being converted.
const WAITING: usize = 4;

/// Documents from which the batch is read on a second thread (spawning
/// one costs some 30 µs, reading a document some 2 µs).
const THREADED: usize = 512;

/// A converted document and the values in it JSON cannot hold.
type Converted = (Value, Vec<FieldError>);

/// Reads the documents of `Users.create_many` (`docs`) into the core's
/// inputs as a view scoped to `scope` reads them, each checked by its
/// field rules (`Validated`).
///
/// Raises `TypeError` when `docs` is not a list or one of its items not a
/// dict (naming it, `docs[3]`), else `ValidationError` for the first
/// document that does not read, naming its fields inside the item.
pub(crate) fn new_users(
    py: Python<'_>,
    docs: &Bound<'_, PyAny>,
    scope: Option<&str>,
) -> PyResult<Vec<Validated<NewUser>>> {
    let Ok(list) = docs.cast::<PyList>() else {
        return Err(PyTypeError::new_err(format!(
            "docs must be a list of dicts, not {}",
            type_name(docs)
        )));
    };
    for (index, item) in list.iter().enumerate() {
        if !item.is_instance_of::<PyDict>() {
            return Err(PyTypeError::new_err(format!(
                "docs[{index}] must be a dict, not {}",
                type_name(&item)
            )));
        }
    }
    let read = &|index: usize, (value, problems): Converted| {
        new_document(value, problems, |v| NewUser::validated_from_json(v, scope))
            .map_err(|e| e.in_item("docs", index))
    };
    let threaded =
        list.len() >= THREADED && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let one_by_one = || {
        list.iter()
            .enumerate()
            .map(|(index, item)| read(index, convert_document(&item)))
            .collect::<rosterdb::Result<Vec<_>>>()
    };
    if !threaded {
        return one_by_one().or_raise(py);
    }
    let count = list.len();
    std::thread::scope(|threads| {
        let (send, chunks) = mpsc::sync_channel::<Vec<Converted>>(WAITING);
        let reader = std::thread::Builder::new()
            .name("rosterdb-read".into())
            .spawn_scoped(threads, move || {
                let mut users = Vec::with_capacity(count);
                for chunk in chunks {
                    for converted in chunk {
                        users.push(read(users.len(), converted)?);
                    }
                }
                Ok(users)
            });
        let Ok(reader) = reader else {
            // No thread: every document on this one.
            return one_by_one();
        };
        let mut chunk = Vec::with_capacity(CHUNK);
        for item in list.iter() {
            chunk.push(convert_document(&item));
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                if send.send(full).is_err() {
                    // The reader stopped at a document that does not read.
                    break;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = send.send(chunk);
        }
        drop(send);
        reader
            .join()
            .map_err(|_| Error::internal("the thread reading the documents failed"))?
    })
    .or_raise(py)
}
