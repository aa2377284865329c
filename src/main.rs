/// Small blocks from per-thread size-class lists (see `infragen::pool`).
#[global_allocator]
static ALLOC: infragen::pool::Pool = infragen::pool::Pool;

fn main() {
    std::process::exit(infragen::cli::run());
}
