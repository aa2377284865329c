// Small blocks by size class, on a heap set up for huge pages (see `heap`). Linux only,
// where it is measured and tested; the library itself sets no allocator.
#[cfg(target_os = "linux")]
#[global_allocator]
static HEAP: infragen::heap::Blocks = infragen::heap::Blocks;

fn main() {
    std::process::exit(infragen::cli::run());
}
