//! [`Lazy`]: a group of socket fields that stays unallocated while it holds its empty value,
//! so that a million idle connections do not each pay for state only a busy or unusual one
//! needs (issue 7).
//!
//! Guarantees:
//! - Reading an absent group sees exactly [`LazyState::EMPTY`]; the first write through
//!   `DerefMut` allocates a box holding that same value, so the code that uses the fields
//!   cannot tell an absent group from a present one.
//! - [`Lazy::free_if_empty`] drops the box only when [`LazyState::is_empty`] says the value
//!   is indistinguishable from [`LazyState::EMPTY`]; nothing else ever frees it.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A value a [`Lazy`] group can hold.
pub trait LazyState: Sized + Sync + 'static {
    /// The value an absent group reads as and a new box starts from.
    const EMPTY: Self;
    /// A `static` holding [`LazyState::EMPTY`] (a generic type cannot declare one itself).
    fn empty_ref() -> &'static Self;
    /// Whether this value may be replaced by an absent group without anyone noticing.
    fn is_empty(&self) -> bool;
}

/// A rarely used group of fields, boxed on first write (see the module docs).
pub struct Lazy<T: LazyState>(Option<Box<T>>);

impl<T: LazyState> Lazy<T> {
    /// An absent group.
    pub const fn new() -> Self {
        Lazy(None)
    }

    /// Whether the group holds an allocation.
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }

    /// Gives the allocation back if the group is empty again.
    pub fn free_if_empty(&mut self) {
        if self.0.as_deref().is_some_and(T::is_empty) {
            self.0 = None;
        }
    }

    /// Runs `f` on the group only if it is allocated: for writes that put fields back to their
    /// empty values, which an absent group already holds (no box is made to be cleared).
    pub fn if_present<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.0.as_deref_mut().map(f)
    }

    /// Takes the box out, leaving the group absent.
    pub fn take_box(&mut self) -> Option<Box<T>> {
        self.0.take()
    }

    /// Installs `b` if the group is absent (a recycled box, which must hold the empty value).
    pub fn fill_from(&mut self, b: Box<T>) {
        debug_assert!(b.is_empty());
        if self.0.is_none() {
            self.0 = Some(b);
        }
    }
}

impl<T: LazyState> Default for Lazy<T> {
    fn default() -> Self {
        Lazy::new()
    }
}

impl<T: LazyState> Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            Some(b) => b,
            None => T::empty_ref(),
        }
    }
}

impl<T: LazyState> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(|| Box::new(T::EMPTY))
    }
}

/// Prints the fields, present or not, as a plain struct would.
impl<T: LazyState + fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.deref().fmt(f)
    }
}
