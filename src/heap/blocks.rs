//! The command-line tool's allocator: small blocks by size class, carved from large chunks,
//! recycled through per-thread free lists.
//!
//! A synth is hundreds of thousands of short-lived small allocations (value trees, rendered
//! bodies, names) and then exit. glibc's allocator spends about a quarter of the run's
//! instructions on them: its per-thread cache holds seven blocks per size, so freeing a value
//! tree falls through to the locked general path, and consolidation runs again and again.
//! Here a small block is a size class (16-byte steps to 256 bytes, then four classes per
//! power of two to 32 KiB); allocating pops the thread's free list for the class or bumps a
//! pointer through the thread's current chunk, and freeing pushes onto the freeing thread's
//! list. No headers (the caller passes the size back on free), no locks, no system calls
//! beyond one `malloc` per chunk. Chunks are never returned: the process is short-lived, and
//! blocks freed by one thread are reused by that thread, so memory stays bounded by what the
//! run allocates. Large or over-aligned blocks go to the system allocator unchanged.
//!
//! Only the binary installs it (`src/main.rs`); the library leaves the choice to its users.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Blocks larger than this (or aligned beyond [`ALIGN`]) come from the system allocator.
pub const SMALL_MAX: usize = 32 << 10;
/// Every class size is a multiple of this, and chunks are aligned to it.
const ALIGN: usize = 16;
/// What a thread takes from the system at once to carve blocks from.
const CHUNK: usize = 1 << 20;
/// 16 classes of 16-byte steps to 256, then 4 per doubling from 256 to 32 KiB (7 doublings).
const CLASSES: usize = 16 + 4 * 7;

/// The size of each class, in bytes.
const SIZES: [usize; CLASSES] = {
    let mut sizes = [0; CLASSES];
    let mut c = 0;
    while c < CLASSES {
        sizes[c] = if c < 16 {
            (c + 1) * 16
        } else {
            let k = c - 16;
            (5 + k % 4) << (6 + k / 4)
        };
        c += 1;
    }
    sizes
};

/// The smallest class that holds `size` bytes (`1..=SMALL_MAX`).
#[inline]
fn class_of(size: usize) -> usize {
    if size <= 256 {
        return size.saturating_sub(1) >> 4;
    }
    // Four classes per doubling: the top bit of `size - 1` picks the doubling, the next two
    // bits the quarter within it.
    let s = size - 1;
    let log = (usize::BITS - 1 - s.leading_zeros()) as usize;
    16 + (log - 8) * 4 + ((s >> (log - 2)) & 3)
}

/// Whether `layout` is served here rather than by the system allocator.
#[inline]
fn is_small(layout: &Layout) -> bool {
    layout.size() <= SMALL_MAX && layout.align() <= ALIGN
}

/// A thread's free lists and the unused rest of its current chunk.
struct Local {
    /// Heads of intrusive singly linked lists: a free block's first word is the next block.
    free: [Cell<*mut u8>; CLASSES],
    next: Cell<usize>,
    end: Cell<usize>,
}

thread_local! {
    // `const` and no destructor: access is a plain thread-local load, never allocates and
    // works until the thread is gone (a thread's lists and chunk are simply left behind).
    static LOCAL: Local = const {
        Local {
            free: [const { Cell::new(ptr::null_mut()) }; CLASSES],
            next: Cell::new(0),
            end: Cell::new(0),
        }
    };
}

/// The allocator (see the module documentation).
pub struct Blocks;

impl Blocks {
    #[inline]
    fn take(class: usize) -> *mut u8 {
        LOCAL.with(|l| {
            let head = l.free[class].get();
            if !head.is_null() {
                // SAFETY: a listed block is a free block of this class whose first word was
                // set to the next block's address by `give`.
                l.free[class].set(unsafe { head.cast::<*mut u8>().read() });
                return head;
            }
            let size = SIZES[class];
            let next = l.next.get();
            if l.end.get() - next >= size {
                l.next.set(next + size);
                return next as *mut u8;
            }
            Self::refill(l, size)
        })
    }

    /// A new chunk for this thread, and the first block from it. The old chunk's rest (less
    /// than one block of this class) is left unused.
    #[cold]
    fn refill(l: &Local, size: usize) -> *mut u8 {
        // The first chunk is taken before `main` runs (the runtime's own first allocation):
        // set the heap up for huge pages now, so that every chunk comes from it.
        static PREPARED: AtomicBool = AtomicBool::new(false);
        if !PREPARED.swap(true, Ordering::Relaxed) {
            super::prefer_huge_pages();
        }
        // SAFETY: the layout is valid and non-zero in size.
        let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, ALIGN)) };
        if chunk.is_null() {
            return chunk;
        }
        let start = chunk as usize;
        l.next.set(start + size);
        l.end.set(start + CHUNK);
        chunk
    }

    #[inline]
    fn give(block: *mut u8, class: usize) {
        LOCAL.with(|l| {
            // SAFETY: the caller owned `block`, at least 16 bytes and 16-aligned; it is free
            // from now on, so its first word may hold the list link.
            unsafe { block.cast::<*mut u8>().write(l.free[class].get()) };
            l.free[class].set(block);
        })
    }
}

// SAFETY: every small block is a distinct range of a chunk that is never freed, handed out
// once until it is given back; its class (from the size the caller passes back, as
// `GlobalAlloc` requires it to match) is at least the requested size and a multiple of 16
// from a 16-aligned chunk start. Everything else is the system allocator's.
unsafe impl GlobalAlloc for Blocks {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_small(&layout) {
            Self::take(class_of(layout.size()))
        } else {
            // SAFETY: forwarded unchanged.
            unsafe { System.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_small(&layout) {
            Self::give(ptr, class_of(layout.size()));
        } else {
            // SAFETY: a large block came from the system allocator with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_small(&layout) {
            let p = Self::take(class_of(layout.size()));
            if !p.is_null() {
                // SAFETY: `p` holds at least `layout.size()` bytes.
                unsafe { ptr::write_bytes(p, 0, layout.size()) };
            }
            p
        } else {
            // SAFETY: forwarded unchanged.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `GlobalAlloc::realloc` requires `new_size`, rounded to `layout.align()`, not to
        // overflow `isize`, which is what `Layout` requires.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_small(&layout), is_small(&new)) {
            (true, true) if class_of(layout.size()) == class_of(new_size) => ptr,
            // SAFETY: both blocks are the system allocator's.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                // SAFETY: a fresh block of the new size; the old one holds `layout.size()`
                // bytes and is released after the copy, with the layout it was allocated with.
                unsafe {
                    let p = self.alloc(new);
                    if !p.is_null() {
                        ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    p
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_the_smallest_that_fit() {
        assert_eq!(SIZES[0], 16);
        assert_eq!(SIZES[15], 256);
        assert_eq!(SIZES[16], 320);
        assert_eq!(SIZES[CLASSES - 1], SMALL_MAX);
        for w in SIZES.windows(2) {
            assert!(w[0] < w[1] && w[1].is_multiple_of(ALIGN));
            // Four classes per doubling: a block wastes less than a quarter of its size.
            assert!(w[1] - w[0] <= w[1] / 4 || w[1] <= 256);
        }
        for size in 1..=SMALL_MAX {
            let c = class_of(size);
            assert!(SIZES[c] >= size, "{size} in class {c} of {}", SIZES[c]);
            assert!(
                c == 0 || SIZES[c - 1] < size,
                "{size}: class {c} is not the smallest"
            );
        }
    }

    /// Blocks are distinct, hold what was written, survive growth and shrinking across
    /// classes and into and out of the system allocator's range, and are reused once freed.
    #[test]
    fn blocks_keep_their_contents_and_never_overlap() {
        fn run(seed: u64) {
            let mut x = seed;
            let mut rand = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
            for step in 0..20_000u32 {
                let r = rand();
                if live.len() > 300 || (r % 3 == 0 && !live.is_empty()) {
                    let i = (rand() as usize) % live.len();
                    let (p, layout, fill) = live.swap_remove(i);
                    check(p, layout.size(), fill);
                    if r % 2 == 0 {
                        // SAFETY: `p` is live with `layout`.
                        unsafe { Blocks.dealloc(p, layout) };
                    } else {
                        let size = pick(rand());
                        // SAFETY: `p` is live with `layout`; the new size is non-zero.
                        let q = unsafe { Blocks.realloc(p, layout, size) };
                        check(q, layout.size().min(size), fill);
                        let layout = Layout::from_size_align(size, layout.align()).unwrap();
                        let fill = step as u8;
                        // SAFETY: `q` holds `size` bytes.
                        unsafe { ptr::write_bytes(q, fill, size) };
                        live.push((q, layout, fill));
                    }
                } else {
                    let align = [1, 8, 16, 64][(r >> 8) as usize % 4];
                    let layout = Layout::from_size_align(pick(rand()), align).unwrap();
                    // SAFETY: non-zero size.
                    let p = unsafe {
                        if r % 5 == 0 {
                            Blocks.alloc_zeroed(layout)
                        } else {
                            Blocks.alloc(layout)
                        }
                    };
                    assert!(!p.is_null() && (p as usize).is_multiple_of(align));
                    if r % 5 == 0 {
                        check(p, layout.size(), 0);
                    }
                    let fill = step as u8;
                    // SAFETY: `p` holds `layout.size()` bytes.
                    unsafe { ptr::write_bytes(p, fill, layout.size()) };
                    live.push((p, layout, fill));
                }
                if step % 1000 == 0 {
                    let mut ranges: Vec<(usize, usize)> = live
                        .iter()
                        .map(|(p, l, _)| (*p as usize, l.size()))
                        .collect();
                    ranges.sort();
                    for w in ranges.windows(2) {
                        assert!(w[0].0 + w[0].1 <= w[1].0, "blocks overlap");
                    }
                }
            }
            for (p, layout, fill) in live {
                check(p, layout.size(), fill);
                // SAFETY: `p` is live with `layout`.
                unsafe { Blocks.dealloc(p, layout) };
            }
        }
        /// Mostly small sizes, some near class edges, some beyond `SMALL_MAX`.
        fn pick(r: u64) -> usize {
            match r % 10 {
                0..=5 => 1 + (r >> 8) as usize % 300,
                6 | 7 => 1 + (r >> 8) as usize % SMALL_MAX,
                8 => SIZES[(r >> 8) as usize % CLASSES] + (r >> 20) as usize % 3 - 1,
                _ => SMALL_MAX - 64 + (r >> 8) as usize % 20_000,
            }
        }
        fn check(p: *mut u8, len: usize, fill: u8) {
            // SAFETY: `p` holds at least `len` initialised bytes.
            let bytes = unsafe { std::slice::from_raw_parts(p, len) };
            assert!(bytes.iter().all(|&b| b == fill), "block contents changed");
        }
        // Several threads at once, each with its own lists and chunks.
        let threads: Vec<_> = (1..=4u64)
            .map(|t| std::thread::spawn(move || run(0x9e37_79b9_7f4a_7c15 ^ t)))
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_freed_block_is_reused_and_blocks_move_between_threads() {
        let layout = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: non-zero size; each block is freed once with its layout.
        unsafe {
            let a = Blocks.alloc(layout);
            Blocks.dealloc(a, layout);
            assert_eq!(Blocks.alloc(layout), a, "the freed block comes back first");
            // Freed on another thread: it joins that thread's list, and stays valid.
            let a = a as usize;
            std::thread::spawn(move || Blocks.dealloc(a as *mut u8, layout))
                .join()
                .unwrap();
        }
    }
}
