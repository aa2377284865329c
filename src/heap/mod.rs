//! Process-wide heap settings for the command-line tool (never for the library's users).
//!
//! A large synth touches tens of MiB of fresh heap, and on a virtual machine each 4 KiB page
//! fault costs microseconds: at 1,000 ECS services a third of the run was the kernel
//! handing out pages. Linux's transparent huge pages fault 2 MiB at a time, but where the
//! system setting is `madvise` (the common default) only memory that asks for them gets
//! them. So on Linux with glibc: grow the heap in large steps, never give it back during
//! the run (the process is short-lived), serve large blocks from it rather than from fresh
//! mappings, and ask for huge pages on it. Anywhere else, or if the kernel declines, this
//! does nothing and the heap works as before.
//!
//! Small blocks do not come from glibc at all but from [`Blocks`], which takes its chunks
//! from this heap.

mod blocks;

pub use blocks::Blocks;

/// How far ahead of need the heap grows: the whole run of a large blueprint in one step.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const STEP: usize = 64 << 20;

/// Ask for a heap backed by huge pages, once, before the work starts ([`Blocks`] does it
/// when it takes its first chunk).
fn prefer_huge_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt`, `malloc`, `free`, `sbrk(0)` and `madvise` are plain libc calls; the
    // block is freed right away and `madvise` only changes how the kernel backs pages glibc
    // already owns (MADV_HUGEPAGE never changes their contents).
    unsafe {
        const HUGE: usize = 2 << 20;
        if libc::mallopt(libc::M_TOP_PAD, STEP as libc::c_int) == 0
            || libc::mallopt(libc::M_TRIM_THRESHOLD, (2 * STEP) as libc::c_int) == 0
            || libc::mallopt(libc::M_MMAP_THRESHOLD, (STEP / 2) as libc::c_int) == 0
            // Worker threads' chunks from this heap too, not from per-thread arenas (fresh
            // mappings without huge pages); `Blocks` leaves glibc few calls to contend on.
            || libc::mallopt(libc::M_ARENA_MAX, 1) == 0
        {
            return;
        }
        // A block larger than what is left of the heap makes it grow by `STEP` now.
        const PROBE: usize = 256 << 10;
        let probe = libc::malloc(PROBE);
        if probe.is_null() {
            return;
        }
        let end = libc::sbrk(0) as usize;
        // Growing, glibc wrote the header of the heap's free rest just past the probe. That
        // write gave its 2 MiB range a small page before `madvise`, and a range that has one
        // gets no huge page when it faults: the work starts at the next boundary.
        let start = (probe as usize + PROBE + 64).div_ceil(HUGE) * HUGE;
        libc::free(probe);
        // The probe must lie in the `brk` heap just grown (glibc falls back to mappings
        // elsewhere when the break cannot move); otherwise leave everything as it is.
        let in_heap = (probe as usize) < end && end - (probe as usize) <= 2 * STEP;
        if !in_heap
            || end <= start + HUGE
            || libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) != 0
        {
            return;
        }
        // Only whole aligned 2 MiB ranges can be huge pages. The heap's top now starts where
        // the probe was, below `start`: a block up to `start`, kept for the whole run, makes
        // the work's allocations begin on the first huge page instead of small ones.
        let below = start - probe as usize;
        if below > 64 {
            // `black_box`: an allocation nobody uses may be optimised away.
            std::hint::black_box(libc::malloc(below - 32));
        }
    }
}
