#![forbid(unsafe_code)]

fn main() {
    std::process::exit(infragen::cli::run());
}
