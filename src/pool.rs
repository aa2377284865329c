//! The command line's allocator: small blocks from per-thread free lists, one list per
//! 16-byte size class, carved from 64 KiB slabs; everything else goes to the system
//! allocator.
//!
//! Synthesis builds and drops many short-lived small values (JSON bodies, names,
//! references); with the system allocator, allocating and freeing them was a quarter of
//! the run. Here both are a few instructions: a block is reused only for its own size
//! class, and freed blocks go to the list of the thread that frees them (the layout given
//! to `dealloc` says which class). Slabs are never returned: the process is short-lived,
//! and the blocks of a class are reused as soon as they are freed, so memory stays within
//! a slab per class of what the peak needs.
//!
//! Only `main.rs` installs it; the library and its tests use the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

/// Size-class granularity, and the alignment every pooled block has.
const GRAIN: usize = 16;
/// Largest size served from the pool.
const MAX_SMALL: usize = 1024;
const CLASSES: usize = MAX_SMALL / GRAIN;
/// What the pool asks the system for at a time.
const SLAB: usize = 64 * 1024;

/// A free block: its first word points to the next free block of its class.
struct Free {
    next: *mut Free,
}

thread_local! {
    static LISTS: [Cell<*mut Free>; CLASSES] =
        const { [const { Cell::new(ptr::null_mut()) }; CLASSES] };
    /// The unused part of the current slab.
    static BUMP: Cell<(*mut u8, usize)> = const { Cell::new((ptr::null_mut(), 0)) };
}

/// The size-class allocator. Zero-sized and stateless: all state is per thread.
pub struct Pool;

/// The class of `layout` (blocks of `(class + 1) * GRAIN` bytes), if the pool serves it.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    if size <= MAX_SMALL && layout.align() <= GRAIN && size > 0 {
        Some((size - 1) / GRAIN)
    } else {
        None
    }
}

impl Pool {
    /// A block of `class`: the head of its free list, else carved from the slab.
    #[inline]
    fn take(class: usize) -> *mut u8 {
        let popped = LISTS.try_with(|lists| {
            let head = lists[class].get();
            if !head.is_null() {
                // SAFETY: `head` is a free block of this class: pushed by `give` (which wrote
                // its `next` field), not handed out since.
                lists[class].set(unsafe { (*head).next });
            }
            head
        });
        match popped {
            Ok(head) if !head.is_null() => head.cast(),
            Ok(_) => Self::carve((class + 1) * GRAIN),
            // No thread-local storage (thread teardown): the caller asks the system.
            Err(_) => ptr::null_mut(),
        }
    }

    /// `size` bytes (a multiple of `GRAIN`) from the current slab, starting a new one when
    /// it is used up.
    #[cold]
    fn carve(size: usize) -> *mut u8 {
        BUMP.try_with(|bump| {
            let (mut at, mut left) = bump.get();
            if left < size {
                // The remainder (less than one block of this class) is left unused.
                // SAFETY: a valid, non-zero layout.
                at = unsafe { System.alloc(Layout::from_size_align_unchecked(SLAB, GRAIN)) };
                if at.is_null() {
                    return ptr::null_mut();
                }
                left = SLAB;
            }
            // SAFETY: `size <= left`, so the block is inside the slab.
            bump.set((unsafe { at.add(size) }, left - size));
            at
        })
        .unwrap_or(ptr::null_mut())
    }

    /// Put a block of `class` on this thread's free list.
    #[inline]
    fn give(ptr: *mut u8, class: usize) -> bool {
        LISTS
            .try_with(|lists| {
                let block = ptr.cast::<Free>();
                // SAFETY: the caller owns the block, which is at least `GRAIN` bytes and
                // `GRAIN`-aligned, so it can hold the link.
                unsafe { (*block).next = lists[class].get() };
                lists[class].set(block);
            })
            .is_ok()
    }
}

// SAFETY: pooled blocks are `(class + 1) * GRAIN` bytes, `GRAIN`-aligned (slabs are, and
// block sizes are multiples of it), at least the requested size and alignment, and each is
// handed out at most once until it is freed; everything else is the system allocator's.
unsafe impl GlobalAlloc for Pool {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(c) = class(layout) {
            let p = Self::take(c);
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(Self::system_layout(layout)) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(c) = class(layout)
            && Self::give(ptr, c)
        {
            return;
        }
        // SAFETY: the block came from `System` with this (adjusted) layout.
        unsafe { System.dealloc(ptr, Self::system_layout(layout)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if class(layout).is_some() {
            // SAFETY: forwarded; the block is at least `layout.size()` bytes.
            let p = unsafe { self.alloc(layout) };
            if !p.is_null() {
                unsafe { ptr::write_bytes(p, 0, layout.size()) };
            }
            return p;
        }
        unsafe { System.alloc_zeroed(Self::system_layout(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `new_size` is valid for `layout.align()` (the caller's guarantee).
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new)) {
            (None, None) => unsafe { System.realloc(ptr, Self::system_layout(layout), new_size) },
            (Some(a), Some(b)) if a == b => ptr,
            _ => {
                // SAFETY: forwarded; the copy covers the smaller of the two sizes, both valid.
                let p = unsafe { self.alloc(new) };
                if !p.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                p
            }
        }
    }
}

impl Pool {
    /// The layout to ask the system for. A pooled size is rounded up to its whole class
    /// (`GRAIN`-aligned), so that a block the pool could not serve (no thread-local storage
    /// left, or no memory for a slab) is still a valid block of its class when it is freed
    /// into a list later.
    #[inline]
    fn system_layout(layout: Layout) -> Layout {
        match class(layout) {
            // SAFETY: a non-zero multiple of `GRAIN`, a power of two.
            Some(c) => unsafe { Layout::from_size_align_unchecked((c + 1) * GRAIN, GRAIN) },
            None => layout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_distinct_reused_and_resizable() {
        let pool = Pool;
        unsafe {
            let l = Layout::from_size_align(24, 8).unwrap();
            let a = pool.alloc(l);
            let b = pool.alloc(l);
            assert!(!a.is_null() && !b.is_null() && a != b);
            assert_eq!(a as usize % GRAIN, 0);
            ptr::write_bytes(a, 0xAB, 24);
            pool.dealloc(a, l);
            let c = pool.alloc(Layout::from_size_align(32, 16).unwrap());
            assert_eq!(a, c, "same class, reused");
            // Grow through the classes and out of the pool, keeping the contents.
            let mut p = pool.alloc(Layout::from_size_align(8, 1).unwrap());
            ptr::copy_nonoverlapping(b"abcdefgh".as_ptr(), p, 8);
            let mut size = 8;
            for next in [16, 40, 600, 1024, 5000, 70_000, 100] {
                p = pool.realloc(p, Layout::from_size_align(size, 1).unwrap(), next);
                assert!(!p.is_null());
                assert_eq!(std::slice::from_raw_parts(p, 8), b"abcdefgh");
                size = next;
            }
            pool.dealloc(p, Layout::from_size_align(size, 1).unwrap());
            let z = pool.alloc_zeroed(Layout::from_size_align(48, 8).unwrap());
            assert!(std::slice::from_raw_parts(z, 48).iter().all(|&x| x == 0));
            pool.dealloc(z, Layout::from_size_align(48, 8).unwrap());
            // Over-aligned requests are the system's.
            let big = Layout::from_size_align(64, 64).unwrap();
            let o = pool.alloc(big);
            assert_eq!(o as usize % 64, 0);
            pool.dealloc(o, big);
            pool.dealloc(b, l);
            pool.dealloc(c, Layout::from_size_align(32, 16).unwrap());
        }
    }

    #[test]
    fn many_blocks_across_slabs_and_threads() {
        let pool = Pool;
        let l = Layout::from_size_align(200, 8).unwrap();
        let blocks: Vec<usize> = (0..2000)
            .map(|i| unsafe {
                let p = pool.alloc(l);
                ptr::write_bytes(p, i as u8, 200);
                p as usize
            })
            .collect();
        let mut sorted = blocks.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), blocks.len());
        for (i, &p) in blocks.iter().enumerate() {
            assert!(
                unsafe { std::slice::from_raw_parts(p as *const u8, 200) }
                    .iter()
                    .all(|&x| x == i as u8)
            );
        }
        // Freed on another thread: they join that thread's lists.
        std::thread::spawn(move || {
            for p in blocks {
                unsafe { Pool.dealloc(p as *mut u8, l) };
            }
        })
        .join()
        .unwrap();
    }
}
